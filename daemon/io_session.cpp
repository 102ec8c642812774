#include "daemon/io_session.hpp"

#include "common/error.hpp"
#include "common/units.hpp"
#include "daemon/views.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <functional>
#include <iomanip>
#include <map>
#include <memory>
#include <openssl/evp.h>
#include <span>
#include <sstream>

namespace daxpolicy::daemon
{

namespace
{

std::string hex(const unsigned char *data, size_t len)
{
	std::ostringstream out;
	for (size_t i = 0; i < len; i++)
		out << std::hex << std::setw(2) << std::setfill('0') << int(data[i]);
	return out.str();
}

// Data moves a chunk at a time through one buffer, so a command of any length holds bounded
// memory in the daemon; -v, which prints what it read, prints at most kMaxVerbose bytes.
constexpr size_t kChunk = 1 << 20;
constexpr uint64_t kMaxVerbose = 1 << 20;

void check_range(const std::string &cmd, uint64_t off, uint64_t len)
{
	if (len > UINT64_MAX - off)
		throw Error(Errc::invalid_argument, cmd + ": offset + length wraps past 2^64");
}

// Reads [off, off+len) through `read` (which returns fewer bytes than asked only at
// end-of-file), chunk by chunk, and reports the bytes and their sha256.
nlohmann::json read_result(const std::string &cmd, uint64_t off, uint64_t len, bool verbose,
                           const std::function<std::vector<std::byte>(uint64_t, size_t)> &read)
{
	check_range(cmd, off, len);
	if (verbose && len > kMaxVerbose)
		throw Error(Errc::invalid_argument, cmd + " -v: prints at most 1 MiB");
	std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
	                                                            EVP_MD_CTX_free);
	if (!ctx || !EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr))
		throw Error(Errc::internal, "sha256 failed");
	std::string data;
	uint64_t bytes = 0;
	for (uint64_t done = 0; done < len;) {
		size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, len - done));
		std::vector<std::byte> chunk = read(off + done, n);
		if (!EVP_DigestUpdate(ctx.get(), chunk.data(), chunk.size()))
			throw Error(Errc::internal, "sha256 failed");
		if (verbose)
			data += hex(reinterpret_cast<const unsigned char *>(chunk.data()),
			            chunk.size());
		bytes += chunk.size();
		done += n;
		if (chunk.size() < n)
			break; // end-of-file
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	if (!EVP_DigestFinal_ex(ctx.get(), md, &md_len))
		throw Error(Errc::internal, "sha256 failed");
	nlohmann::json j = {
	    {"cmd", cmd}, {"offset", off}, {"bytes", bytes}, {"sha256", hex(md, md_len)}};
	if (verbose)
		j["data"] = data;
	return j;
}

// Writes `len` bytes of `fill` at `off` through `write`, chunk by chunk from one buffer.
void write_filled(const std::string &cmd, uint64_t off, uint64_t len, std::byte fill,
                  const std::function<void(uint64_t, std::span<const std::byte>)> &write)
{
	check_range(cmd, off, len);
	std::vector<std::byte> buf(static_cast<size_t>(std::min<uint64_t>(kChunk, len)), fill);
	for (uint64_t done = 0; done < len;) {
		size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, len - done));
		write(off + done, std::span(buf).first(n));
		done += n;
	}
}

// The numbers of an io command: sizes with suffixes (4k, 2m), bytes as 0x61 or 97.
struct Args {
	std::string off_text, len_text, fill_text = "0xcd";
	bool verbose = false, read_only = false, write_only = false, create = false,
	     keep_size = false;
	std::string attr, new_path, size_text;

	static uint64_t size(const std::string &text, const char *what)
	{
		auto v = parse_size(text);
		if (!v)
			throw Error(Errc::invalid_argument, std::string(what) + ": '" + text +
			                                        "' is not a size (4096, 4k, 2m)");
		return *v;
	}
	uint64_t off() const { return size(off_text, "offset"); }
	uint64_t len() const { return size(len_text, "length"); }
	std::byte fill() const
	{
		size_t used = 0;
		unsigned long v = 0;
		try {
			v = std::stoul(fill_text, &used, 0);
		} catch (const std::exception &) {
			used = 0; // reported below
		}
		if (used != fill_text.size() || v > 255)
			throw Error(Errc::invalid_argument,
			            "-S: '" + fill_text + "' is not a byte");
		return std::byte(v);
	}
};

// xfs_io's names for fallocate's modes (falloc, with its -k, is handled on its own).
const std::map<std::string, fscore::LayoutOp> kSpaceOps = {
    {"fpunch", fscore::LayoutOp::punch_hole},
    {"fzero", fscore::LayoutOp::zero_range},
    {"fcollapse", fscore::LayoutOp::collapse_range},
    {"finsert", fscore::LayoutOp::insert_range},
};

// Every length is bounded: one command must not make the daemon allocate without limit.
constexpr uint64_t kMaxIo = 256 << 20;

void check_len(uint64_t len)
{
	if (len > kMaxIo)
		throw Error(Errc::invalid_argument,
		            "length is larger than 256 MiB for one command");
}

} // namespace

IoSession::IoSession(fscore::Volume &volume, std::string volume_name, std::string path,
                     fscore::Holder holder)
    : volume_(volume), volume_name_(std::move(volume_name)), path_(std::move(path)),
      session_(volume.open_session(holder)), worker_([this] { work(); })
{
}

IoSession::~IoSession()
{
	{
		std::lock_guard lock(mutex_);
		stopping_ = true;
	}
	session_->cancel();
	wake_.notify_all();
	worker_.join();
}

void IoSession::submit(std::vector<std::string> argv, bool create, Done done)
{
	{
		std::lock_guard lock(mutex_);
		jobs_.push_back([this, argv = std::move(argv), create, done = std::move(done)] {
			IoResult result;
			try {
				result = run(argv, create);
				// What this session's holders were told since its last command.
				nlohmann::json notices = nlohmann::json::array();
				for (const auto &n : session_->take_notices())
					notices.push_back({{"path", volume_name_ + ":" + n.path},
					                   {"op", n.op},
					                   {"offset", n.offset},
					                   {"length", n.length},
					                   {"must_release", n.must_release}});
				if (!notices.empty())
					result.out["notices"] = notices;
			} catch (const Error &e) {
				result.error.emplace(e.code(), e.what());
			} catch (const std::exception &e) {
				result.error.emplace(Errc::internal, e.what());
			}
			done(std::move(result));
		});
	}
	wake_.notify_one();
}

void IoSession::work()
{
	for (;;) {
		std::function<void()> job;
		{
			std::unique_lock lock(mutex_);
			wake_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
			if (stopping_)
				return; // queued commands of a client that is gone are dropped
			job = std::move(jobs_.front());
			jobs_.pop_front();
		}
		job();
	}
}

int IoSession::file(bool create)
{
	if (!fd_)
		fd_ = session_->open(path_, create);
	return *fd_;
}

std::optional<fscore::FileInfo> IoSession::file_info()
{
	return fd_ ? session_->fstat(*fd_) : volume_.stat(path_);
}

IoResult IoSession::run(const std::vector<std::string> &argv, bool create)
{
	if (argv.empty())
		throw Error(Errc::invalid_argument, "empty io command");
	const std::string &cmd = argv[0];
	CLI::App app(cmd);
	app.set_help_flag();
	Args a;
	auto positional_range = [&] {
		app.add_option("offset", a.off_text)->required();
		app.add_option("length", a.len_text)->required();
	};
	if (cmd == "open") {
		app.add_flag("-c", a.create);
	} else if (cmd == "pwrite" || cmd == "mwrite") {
		app.add_option("-S", a.fill_text);
		positional_range();
	} else if (cmd == "pread" || cmd == "mread") {
		app.add_flag("-v", a.verbose);
		positional_range();
	} else if (cmd == "mmap") {
		app.add_flag("-r", a.read_only);
		app.add_flag("-w", a.write_only);
		positional_range();
	} else if (cmd == "chattr") {
		// "-x" is an attribute here, not an option: no parser of options for this one.
		if (argv.size() != 2 || (argv[1] != "+x" && argv[1] != "-x"))
			throw Error(Errc::invalid_argument, "chattr: expected +x or -x");
		a.attr = argv[1];
	} else if (cmd == "mv") {
		app.add_option("new", a.new_path)->required();
	} else if (cmd == "truncate") {
		app.add_option("size", a.size_text)->required();
	} else if (cmd == "falloc") {
		app.add_flag("-k", a.keep_size);
		positional_range();
	} else if (kSpaceOps.count(cmd)) {
		positional_range();
	} else if (cmd == "pin") {
		positional_range();
	} else if (cmd != "munmap" && cmd != "fsync" && cmd != "lsattr" && cmd != "stat" &&
	           cmd != "mkdir" && cmd != "rm" && cmd != "unpin") {
		throw Error(Errc::invalid_argument, "unknown io command '" + cmd + "'");
	}
	std::vector<std::string> rest(argv.rbegin(), argv.rend() - 1); // CLI11 wants them reversed
	try {
		if (cmd != "chattr")
			app.parse(rest);
	} catch (const CLI::ParseError &e) {
		throw Error(Errc::invalid_argument, cmd + ": " + e.what());
	}

	nlohmann::json out = {{"cmd", cmd}};
	bool file_wanted = false;
	if (cmd == "open") {
		file(create || a.create);
		file_wanted = true;
	} else if (cmd == "pwrite") {
		uint64_t off = a.off(), len = a.len();
		check_len(len);
		int fd = file(create);
		write_filled(cmd, off, len, a.fill(),
		             [&](uint64_t at, std::span<const std::byte> d) {
			             session_->pwrite(fd, at, d);
		             });
		out["offset"] = off;
		out["bytes"] = len;
	} else if (cmd == "pread") {
		uint64_t off = a.off(), len = a.len();
		check_len(len);
		int fd = file(create);
		return {
		    read_result(cmd, off, len, a.verbose,
		                [&](uint64_t at, size_t n) { return session_->pread(fd, at, n); }),
		    {},
		    {}};
	} else if (cmd == "mmap") {
		uint64_t off = a.off(), len = a.len();
		bool writable = !a.read_only || a.write_only;
		int map = session_->mmap(file(create), off, len, writable);
		maps_.push_back(map);
		out["offset"] = off;
		out["length"] = len;
		out["prot"] = writable ? "rw" : "r";
	} else if (cmd == "mread" || cmd == "mwrite" || cmd == "munmap") {
		if (maps_.empty())
			throw Error(Errc::invalid_argument, cmd + ": no mapping (use mmap first)");
		int map = maps_.back();
		if (cmd == "munmap") {
			session_->munmap(map);
			maps_.pop_back();
		} else if (cmd == "mread") {
			uint64_t off = a.off(), len = a.len();
			check_len(len);
			return {read_result(cmd, off, len, a.verbose,
			                    [&](uint64_t at, size_t n) {
				                    return session_->mread(map, at, n);
			                    }),
			        {},
			        {}};
		} else {
			uint64_t off = a.off(), len = a.len();
			check_len(len);
			write_filled(cmd, off, len, a.fill(),
			             [&](uint64_t at, std::span<const std::byte> d) {
				             session_->mwrite(map, at, d);
			             });
			out["offset"] = off;
			out["bytes"] = len;
		}
	} else if (cmd == "truncate") {
		uint64_t size = Args::size(a.size_text, "size");
		session_->truncate(file(create), size);
		out["size"] = size;
	} else if (cmd == "falloc" || kSpaceOps.count(cmd)) {
		uint64_t off = a.off(), len = a.len();
		fscore::LayoutOp op =
		    cmd == "falloc" ? fscore::LayoutOp::allocate : kSpaceOps.at(cmd);
		session_->fallocate(file(create), op, off, len, a.keep_size);
		out["offset"] = off;
		out["length"] = len;
	} else if (cmd == "pin") {
		uint64_t off = a.off(), len = a.len();
		session_->pin(file(create), off, len);
		out["offset"] = off;
		out["length"] = len;
	} else if (cmd == "unpin") {
		session_->unpin();
	} else if (cmd == "fsync") {
		session_->fsync(file(create));
	} else if (cmd == "chattr") {
		if (a.attr != "+x" && a.attr != "-x")
			throw Error(Errc::invalid_argument,
			            "chattr: expected +x or -x, got '" + a.attr + "'");
		session_->set_dax_flag(file(create), a.attr == "+x");
		file_wanted = true;
	} else if (cmd == "lsattr" || cmd == "stat") {
		file_wanted = true;
	} else if (cmd == "mkdir") {
		volume_.mkdir(path_);
		file_wanted = true;
	} else if (cmd == "rm") {
		volume_.remove(path_);
		out["path"] = file_name(volume_name_, path_);
	} else if (cmd == "mv") {
		auto [vol, to] = split_file_name(a.new_path.find(':') == std::string::npos
		                                     ? volume_name_ + ":" + a.new_path
		                                     : a.new_path);
		if (vol != volume_name_)
			throw Error(Errc::invalid_argument,
			            "mv: '" + a.new_path + "' is not in volume " + volume_name_);
		volume_.rename(path_, to);
		out["from"] = file_name(volume_name_, path_);
		path_ = to;
		file_wanted = true;
	}
	return {out, file_wanted ? file_info() : std::nullopt, {}};
}

} // namespace daxpolicy::daemon
