// SPDX-License-Identifier: BSD-3-Clause
#include "daemon/io_commands.hpp"

#include "common/error.hpp"
#include "common/units.hpp"
#include "daemon/views.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <functional>
#include <iomanip>
#include <memory>
#include <openssl/evp.h>
#include <span>
#include <sstream>
#include <string_view>

namespace daxpolicy::daemon
{

int IoTarget::file()
{
	if (!fd)
		fd = session->open(path, create);
	return *fd;
}

fscore::FileInfo IoTarget::file_info()
{
	return fd ? session->fstat(*fd) : volume.stat(path);
}

namespace
{

// Data moves a chunk at a time through one buffer, so a command of any length holds bounded
// memory in the daemon; -v, which prints what it read, prints at most kMaxVerbose bytes, and
// no command moves more than kMaxIo.
constexpr size_t kChunk = 1 << 20;
constexpr uint64_t kMaxVerbose = 1 << 20;
constexpr uint64_t kMaxIo = 256 << 20;

// The arguments of one command line, as its options and positionals set them.
struct Args {
	std::string cmd;
	std::string off_text, len_text, fill_text = "0xcd", size_text, new_path, attr;
	bool verbose = false, read_only = false, write_only = false, create = false,
	     keep_size = false;

	uint64_t off() const { return size(off_text, "offset"); }
	uint64_t len() const
	{
		uint64_t len = size(len_text, "length");
		if (len > UINT64_MAX - off())
			throw Error(Errc::invalid_argument,
			            cmd + ": offset + length wraps past 2^64");
		return len;
	}
	// A length of data moved through the daemon, not just described to the volume.
	uint64_t io_len() const
	{
		uint64_t n = len();
		if (n > kMaxIo)
			throw Error(Errc::invalid_argument,
			            cmd + ": length is larger than 256 MiB for one command");
		return n;
	}
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
			            cmd + " -S: '" + fill_text + "' is not a byte");
		return std::byte(v);
	}
	static uint64_t size(const std::string &text, const char *what)
	{
		auto v = parse_size(text);
		if (!v)
			throw Error(Errc::invalid_argument, std::string(what) + ": '" + text +
			                                        "' is not a size (4096, 4k, 2m)");
		return *v;
	}
};

std::string hex(const unsigned char *data, size_t len)
{
	std::ostringstream out;
	for (size_t i = 0; i < len; i++)
		out << std::hex << std::setw(2) << std::setfill('0') << int(data[i]);
	return out.str();
}

// Reads [off, off+len) through `read` (which returns fewer bytes than asked only at
// end-of-file), chunk by chunk, and reports the bytes and their sha256.
// The range is checked before the file is opened: a bad command changes nothing.
nlohmann::json read_result(const Args &a, const std::function<int()> &open,
                           const std::function<std::vector<std::byte>(int, uint64_t, size_t)> &read)
{
	uint64_t off = a.off(), len = a.io_len();
	if (a.verbose && len > kMaxVerbose)
		throw Error(Errc::invalid_argument, a.cmd + " -v: prints at most 1 MiB");
	int handle = open();
	std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
	                                                            EVP_MD_CTX_free);
	if (!ctx || !EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr))
		throw Error(Errc::internal, "sha256 failed");
	std::string data;
	uint64_t bytes = 0;
	for (uint64_t done = 0; done < len;) {
		size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, len - done));
		std::vector<std::byte> chunk = read(handle, off + done, n);
		if (!EVP_DigestUpdate(ctx.get(), chunk.data(), chunk.size()))
			throw Error(Errc::internal, "sha256 failed");
		if (a.verbose)
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
	    {"cmd", a.cmd}, {"offset", off}, {"bytes", bytes}, {"sha256", hex(md, md_len)}};
	if (a.verbose)
		j["data"] = data;
	return j;
}

// Writes the range with the fill byte through `write`, chunk by chunk from one buffer.
nlohmann::json
write_filled(const Args &a, const std::function<int()> &open,
             const std::function<void(int, uint64_t, std::span<const std::byte>)> &write)
{
	uint64_t off = a.off(), len = a.io_len();
	std::vector<std::byte> buf(static_cast<size_t>(std::min<uint64_t>(kChunk, len)), a.fill());
	int handle = open();
	for (uint64_t done = 0; done < len;) {
		size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, len - done));
		write(handle, off + done, std::span(buf).first(n));
		done += n;
	}
	return {{"cmd", a.cmd}, {"offset", off}, {"bytes", len}};
}

nlohmann::json range_result(const Args &a)
{
	return {{"cmd", a.cmd}, {"offset", a.off()}, {"length", a.len()}};
}

int current_mapping(IoTarget &t, const Args &a)
{
	if (t.maps.empty())
		throw Error(Errc::invalid_argument, a.cmd + ": no mapping (use mmap first)");
	return t.maps.back();
}

// What a command takes on its command line.
enum class Syntax {
	none,
	range,     // OFF LEN
	size,      // SIZE
	new_path,  // NEW
	attribute, // +x or -x, read by hand: "-x" is an attribute here, not an option
};

struct IoCommand {
	std::string_view name;
	Syntax syntax;
	// Its options beyond the syntax's positionals; null when it has none.
	void (*options)(CLI::App &app, Args &a);
	IoOutput (*run)(IoTarget &t, const Args &a);
};

IoOutput space_op(IoTarget &t, const Args &a, fscore::LayoutOp op)
{
	uint64_t off = a.off(), len = a.len();
	t.session->fallocate(t.file(), op, off, len, a.keep_size);
	return {range_result(a)};
}

const std::array kIoCommands = {
    IoCommand{"open", Syntax::none, [](CLI::App &app, Args &a) { app.add_flag("-c", a.create); },
              [](IoTarget &t, const Args &a) {
	              t.create = t.create || a.create;
	              t.file();
	              return IoOutput{{{"cmd", a.cmd}}, true};
              }},
    IoCommand{"pwrite", Syntax::range,
              [](CLI::App &app, Args &a) { app.add_option("-S", a.fill_text); },
              [](IoTarget &t, const Args &a) {
	              return IoOutput{write_filled(
	                  a, [&] { return t.file(); },
	                  [&](int fd, uint64_t at, std::span<const std::byte> d) {
		                  t.session->pwrite(fd, at, d);
	                  })};
              }},
    IoCommand{"pread", Syntax::range,
              [](CLI::App &app, Args &a) { app.add_flag("-v", a.verbose); },
              [](IoTarget &t, const Args &a) {
	              return IoOutput{read_result(
	                  a, [&] { return t.file(); },
	                  [&](int fd, uint64_t at, size_t n) { return t.session->pread(fd, at, n); })};
              }},
    IoCommand{"truncate", Syntax::size, nullptr,
              [](IoTarget &t, const Args &a) {
	              uint64_t size = Args::size(a.size_text, "size");
	              t.session->truncate(t.file(), size);
	              return IoOutput{{{"cmd", a.cmd}, {"size", size}}};
              }},
    IoCommand{"falloc", Syntax::range,
              [](CLI::App &app, Args &a) { app.add_flag("-k", a.keep_size); },
              [](IoTarget &t, const Args &a) {
	              return space_op(t, a, fscore::LayoutOp::allocate);
              }},
    IoCommand{"fpunch", Syntax::range, nullptr,
              [](IoTarget &t, const Args &a) {
	              return space_op(t, a, fscore::LayoutOp::punch_hole);
              }},
    IoCommand{"fzero", Syntax::range, nullptr,
              [](IoTarget &t, const Args &a) {
	              return space_op(t, a, fscore::LayoutOp::zero_range);
              }},
    IoCommand{"fcollapse", Syntax::range, nullptr,
              [](IoTarget &t, const Args &a) {
	              return space_op(t, a, fscore::LayoutOp::collapse_range);
              }},
    IoCommand{"finsert", Syntax::range, nullptr,
              [](IoTarget &t, const Args &a) {
	              return space_op(t, a, fscore::LayoutOp::insert_range);
              }},
    IoCommand{"mmap", Syntax::range,
              [](CLI::App &app, Args &a) {
	              app.add_flag("-r", a.read_only);
	              app.add_flag("-w", a.write_only);
              },
              [](IoTarget &t, const Args &a) {
	              bool writable = !a.read_only || a.write_only;
	              uint64_t off = a.off(), len = a.len();
	              t.maps.push_back(t.session->mmap(t.file(), off, len, writable));
	              nlohmann::json out = range_result(a);
	              out["prot"] = writable ? "rw" : "r";
	              return IoOutput{out};
              }},
    IoCommand{"mread", Syntax::range,
              [](CLI::App &app, Args &a) { app.add_flag("-v", a.verbose); },
              [](IoTarget &t, const Args &a) {
	              return IoOutput{read_result(
	                  a, [&] { return current_mapping(t, a); },
	                  [&](int map, uint64_t at, size_t n) {
		                  return t.session->mread(map, at, n);
	                  })};
              }},
    IoCommand{"mwrite", Syntax::range,
              [](CLI::App &app, Args &a) { app.add_option("-S", a.fill_text); },
              [](IoTarget &t, const Args &a) {
	              return IoOutput{write_filled(
	                  a, [&] { return current_mapping(t, a); },
	                  [&](int map, uint64_t at, std::span<const std::byte> d) {
		                  t.session->mwrite(map, at, d);
	                  })};
              }},
    IoCommand{"munmap", Syntax::none, nullptr,
              [](IoTarget &t, const Args &a) {
	              t.session->munmap(current_mapping(t, a));
	              t.maps.pop_back();
	              return IoOutput{{{"cmd", a.cmd}}};
              }},
    IoCommand{"pin", Syntax::range, nullptr,
              [](IoTarget &t, const Args &a) {
	              uint64_t off = a.off(), len = a.len();
	              t.session->pin(t.file(), off, len);
	              return IoOutput{range_result(a)};
              }},
    IoCommand{"unpin", Syntax::none, nullptr,
              [](IoTarget &t, const Args &a) {
	              t.session->unpin();
	              return IoOutput{{{"cmd", a.cmd}}};
              }},
    IoCommand{"fsync", Syntax::none, nullptr,
              [](IoTarget &t, const Args &a) {
	              t.session->fsync(t.file());
	              return IoOutput{{{"cmd", a.cmd}}};
              }},
    IoCommand{"chattr", Syntax::attribute, nullptr,
              [](IoTarget &t, const Args &a) {
	              bool was = t.file_info().dax_flag;
	              t.session->set_dax_flag(t.file(), a.attr == "+x");
	              return IoOutput{{{"cmd", a.cmd}}, true, was};
              }},
    IoCommand{"lsattr", Syntax::none, nullptr,
              [](IoTarget &, const Args &a) { return IoOutput{{{"cmd", a.cmd}}, true}; }},
    IoCommand{"stat", Syntax::none, nullptr,
              [](IoTarget &, const Args &a) { return IoOutput{{{"cmd", a.cmd}}, true}; }},
    IoCommand{"mkdir", Syntax::none, nullptr,
              [](IoTarget &t, const Args &a) {
	              t.volume.mkdir(t.path);
	              return IoOutput{{{"cmd", a.cmd}}, true};
              }},
    IoCommand{"rm", Syntax::none, nullptr,
              [](IoTarget &t, const Args &a) {
	              t.volume.remove(t.path);
	              return IoOutput{{{"cmd", a.cmd}, {"path", file_name(t.volume_name, t.path)}}};
              }},
    IoCommand{"mv", Syntax::new_path, nullptr,
              [](IoTarget &t, const Args &a) {
	              auto [vol, to] = split_file_name(a.new_path.find(':') == std::string::npos
	                                                   ? t.volume_name + ":" + a.new_path
	                                                   : a.new_path);
	              if (vol != t.volume_name)
		              throw Error(Errc::invalid_argument, "mv: '" + a.new_path +
		                                                      "' is not in volume " +
		                                                      t.volume_name);
	              t.volume.rename(t.path, to);
	              IoOutput r{{{"cmd", a.cmd}, {"from", file_name(t.volume_name, t.path)}}, true};
	              t.path = to;
	              return r;
              }},
};

const IoCommand &find_command(const std::string &name)
{
	for (const auto &c : kIoCommands)
		if (c.name == name)
			return c;
	throw Error(Errc::invalid_argument, "unknown io command '" + name + "'");
}

// Fills `a` from the command line after its name, as the command's syntax says.
void parse(const IoCommand &c, const std::vector<std::string> &argv, Args &a)
{
	if (c.syntax == Syntax::attribute) {
		if (argv.size() != 2 || (argv[1] != "+x" && argv[1] != "-x"))
			throw Error(Errc::invalid_argument, a.cmd + ": expected +x or -x");
		a.attr = argv[1];
		return;
	}
	CLI::App app(a.cmd);
	app.set_help_flag();
	switch (c.syntax) {
	case Syntax::range:
		app.add_option("offset", a.off_text)->required();
		app.add_option("length", a.len_text)->required();
		break;
	case Syntax::size:
		app.add_option("size", a.size_text)->required();
		break;
	case Syntax::new_path:
		app.add_option("new", a.new_path)->required();
		break;
	case Syntax::none:
	case Syntax::attribute:
		break;
	}
	if (c.options)
		c.options(app, a);
	std::vector<std::string> rest(argv.rbegin(), argv.rend() - 1); // CLI11 wants them reversed
	try {
		app.parse(rest);
	} catch (const CLI::ParseError &e) {
		throw Error(Errc::invalid_argument, a.cmd + ": " + e.what());
	}
}

} // namespace

IoOutput run_io_command(IoTarget &target, const std::vector<std::string> &argv)
{
	if (argv.empty())
		throw Error(Errc::invalid_argument, "empty io command");
	const IoCommand &command = find_command(argv[0]);
	Args a;
	a.cmd = argv[0];
	parse(command, argv, a);
	return command.run(target, a);
}

} // namespace daxpolicy::daemon
