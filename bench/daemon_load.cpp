// SPDX-License-Identifier: BSD-3-Clause
#include "bench/daemon_load.hpp"

#include "bench/bare_server.hpp"
#include "bench/daemon_process.hpp"
#include "bench/interrupt.hpp"
#include "bench/proc_status.hpp"
#include "bench/stats.hpp"
#include "bench/timing.hpp"
#include "bench/unix_client.hpp"
#include "fscore/embedded/embedded_volume.hpp"
#include "fscore/embedded/ondisk/mkfs.hpp"

#include <algorithm>
#include <atomic>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

namespace daxpolicy::bench
{

namespace
{

using json = nlohmann::json;

std::string request(const std::string &method, json parameters = json::object())
{
	return json{{"method", "io.daxpolicy." + method}, {"parameters", std::move(parameters)}}
	    .dump();
}

// The parameters of a reply, or an exception naming the error it is.
json reply_parameters(const std::string &reply)
{
	json j = json::parse(reply);
	if (j.contains("error"))
		throw std::runtime_error("daxpolicyd: " + j["error"].get<std::string>() + ": " +
		                         j.value("parameters", json::object()).dump());
	return j.value("parameters", json::object());
}

// Inodes for `files` and their directories, with room to spare; and a pool size whose inode
// table (at most a quarter of the pool) holds them. The pool file is sparse: only what is
// written costs space.
uint64_t inodes_for(uint64_t files)
{
	return files + files / 16 + 1024;
}

uint64_t pool_bytes_for(uint64_t inodes)
{
	return std::max<uint64_t>(inodes * 1024, uint64_t{1} << 30);
}

// An embedded pool holding /tree/dN/fM: `files` empty files, `per_dir` to a directory. Made
// through fscore before the daemon starts, so the daemon's figures do not include it.
std::filesystem::path make_pool(const Config &cfg, const std::filesystem::path &dir)
{
	auto pool = dir / "pool0.pool";
	uint64_t inodes = inodes_for(cfg.daemon_files);
	fscore::mkfs(pool, pool_bytes_for(inodes), false, inodes);
	auto vol = fscore::EmbeddedVolume::mount(pool, {"pool0", fscore::DaxMode::inode});
	vol->mkdir("/tree");
	for (uint64_t i = 0; i < cfg.daemon_files; ++i) {
		std::string d = "/tree/d" + std::to_string(i / cfg.host_files_per_dir);
		if (i % cfg.host_files_per_dir == 0)
			vol->mkdir(d);
		vol->create(d + "/f" + std::to_string(i % cfg.host_files_per_dir));
		if (i % 4096 == 0)
			check_interrupted();
	}
	return pool;
}

std::string daemon_config(const std::filesystem::path &dir, const std::filesystem::path &pool)
{
	std::filesystem::create_directories(dir / "policy.d");
	return "policy_dir = \"" + (dir / "policy.d").string() +
	       "\"\n[[volume]]\nname = \"pool0\"\nkind = \"embedded\"\npath = \"" + pool.string() +
	       "\"\ndax = \"inode\"\n";
}

// Requests per second from `clients` connections, each asking `message` in a loop for
// `seconds`.
double requests_per_s(const std::string &socket, const std::string &message, int clients,
                      double seconds)
{
	std::atomic<bool> stop{false};
	std::vector<std::future<uint64_t>> counts;
	// Connect all first: the figure is of serving, not of accepting.
	std::vector<std::unique_ptr<UnixClient>> connections;
	for (int i = 0; i < clients; ++i)
		connections.push_back(std::make_unique<UnixClient>(socket));
	auto start = Clock::now();
	for (auto &conn : connections)
		counts.push_back(std::async(std::launch::async, [&stop, &message, c = conn.get()] {
			uint64_t n = 0;
			while (!stop.load(std::memory_order_relaxed)) {
				c->call(message);
				++n;
			}
			return n;
		}));
	std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
	stop = true;
	uint64_t total = 0;
	for (auto &f : counts)
		total += f.get();
	return static_cast<double>(total) / seconds_since(start);
}

std::vector<Figure> throughput(const Config &cfg, const DaemonProcess &daemon,
                               const std::filesystem::path &dir)
{
	const std::map<std::string, std::string> requests{
	    {"status", request("Status")},
	    {"list_one", request("List", {{"paths", {"pool0:/tree/d0/f0"}}})}};
	std::map<std::string, std::string> replies;
	{
		UnixClient probe(daemon.socket());
		for (const auto &[name, message] : requests)
			reply_parameters(replies[message] = probe.call(message));
	}
	BareServer bare(dir / "bare.sock", replies);
	std::vector<Figure> figures;
	for (const auto &[name, message] : requests)
		for (int clients : cfg.daemon_clients) {
			check_interrupted();
			double ours =
			    requests_per_s(daemon.socket(), message, clients, cfg.daemon_turn_s);
			double base = requests_per_s((dir / "bare.sock").string(), message, clients,
			                             cfg.daemon_turn_s);
			figures.push_back(
			    {"daemon_" + name + "_per_s_" + std::to_string(clients) + "c", "req/s",
			     ours, base, Better::higher, "bare epoll server, same reply bytes"});
		}
	return figures;
}

struct Latencies {
	std::vector<double> ms;
	double p50() const { return percentile(ms, 50); }
	double p99() const { return percentile(ms, 99); }
};

// `status` latencies from one client until `done` is ready (at least one sample).
Latencies status_while(const std::string &socket, const std::future<std::string> &done)
{
	UnixClient client(socket);
	std::string message = request("Status");
	Latencies l;
	do {
		auto start = Clock::now();
		client.call(message);
		l.ms.push_back(seconds_since(start) * 1000);
	} while (done.wait_for(std::chrono::seconds(0)) != std::future_status::ready);
	return l;
}

Latencies status_idle(const std::string &socket, size_t samples)
{
	UnixClient client(socket);
	std::string message = request("Status");
	Latencies l;
	for (size_t i = 0; i < samples; ++i) {
		auto start = Clock::now();
		client.call(message);
		l.ms.push_back(seconds_since(start) * 1000);
	}
	return l;
}

struct JobRun {
	double seconds;
	json reply;
	Latencies status;
};

// Sends `message` (a call that replies when its job has ended) on its own connection and
// asks `status` from another until the reply comes.
JobRun job_with_status(const std::string &socket, const std::string &message)
{
	auto start = Clock::now();
	auto reply = std::async(std::launch::async, [&socket, &message] {
		UnixClient client(socket);
		return client.call(message);
	});
	Latencies status = status_while(socket, reply);
	double seconds = seconds_since(start);
	return {seconds, reply_parameters(reply.get()), std::move(status)};
}

uint64_t files_of(const json &reply, const char *count)
{
	return reply.at("files").at(count).get<uint64_t>();
}

// Waits for the start-up reconcile (which walks the whole pool) to end, so that it does not
// share the daemon with what is measured.
void wait_idle(const std::string &socket)
{
	UnixClient client(socket);
	while (reply_parameters(client.call(request("Status"))).at("reconcile").at("state") !=
	       "idle") {
		check_interrupted();
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
	}
}

} // namespace

std::vector<Figure> run_daemon(const Config &cfg, const std::filesystem::path &dir)
{
	auto pool = make_pool(cfg, dir);
	DaemonProcess daemon(dir, daemon_config(dir, pool));
	wait_idle(daemon.socket());
	std::vector<Figure> figures = throughput(cfg, daemon, dir);

	Latencies idle = status_idle(daemon.socket(), cfg.daemon_idle_samples);
	double rss_idle = status_mib("VmRSS", daemon.pid());
	reset_peak_rss(daemon.pid());
	JobRun rule = job_with_status(
	    daemon.socket(),
	    request("AddRule", {{"name", "bench"}, {"subtree", "pool0:/tree"}, {"dax", "on"}}));
	double rss_peak = status_mib("VmHWM", daemon.pid());
	uint64_t applied = files_of(rule.reply, "applied");
	// Every file and directory under /tree, and /tree itself, gets the flag.
	uint64_t entries =
	    cfg.daemon_files +
	    (cfg.daemon_files + cfg.host_files_per_dir - 1) / cfg.host_files_per_dir + 1;
	if (applied != entries)
		throw std::runtime_error("daemon: the rule applied " + std::to_string(applied) +
		                         " of " + std::to_string(entries) + " entries");
	check_interrupted();
	JobRun noop = job_with_status(daemon.socket(), request("Reconcile"));
	if (files_of(noop.reply, "applied") != 0)
		throw std::runtime_error("daemon: the no-op reconcile changed files: " +
		                         noop.reply.dump());

	std::cerr << "daemon: " << entries << " entries: rule " << rule.seconds
	          << " s, no-op reconcile " << noop.seconds << " s; idle RSS " << rss_idle
	          << " MiB, peak during the rule " << rss_peak << " MiB; status samples: idle "
	          << idle.ms.size() << ", during the rule " << rule.status.ms.size() << "\n";
	const char *idle_status = "status on the idle daemon, same run";
	figures.push_back({"daemon_rule_files_per_s", "files/s", entries / rule.seconds,
	                   std::nullopt, Better::higher,
	                   "none here: see embedded_apply_files_per_s"});
	figures.push_back({"daemon_noop_reconcile_files_per_s", "files/s", entries / noop.seconds,
	                   std::nullopt, Better::higher,
	                   "none here: see embedded_evaluate_files_per_s"});
	figures.push_back({"daemon_rule_peak_rss_growth", "MiB", rss_peak - rss_idle, std::nullopt,
	                   Better::lower, "target: under 100 MiB above idle"});
	figures.push_back({"daemon_status_p50_during_rule", "ms", rule.status.p50(), idle.p50(),
	                   Better::lower, idle_status});
	figures.push_back({"daemon_status_p99_during_rule", "ms", rule.status.p99(), idle.p99(),
	                   Better::lower, idle_status});
	figures.push_back({"daemon_status_p99_during_noop_reconcile", "ms", noop.status.p99(),
	                   idle.p99(), Better::lower, idle_status});
	return figures;
}

} // namespace daxpolicy::bench
