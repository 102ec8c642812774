// SPDX-License-Identifier: BSD-3-Clause
// Everything one daxpolicyd process serves: config, volumes, store, engine, and the socket.
// All of it lives on one thread, the Asio event loop; volume notifications are posted to it.
#pragma once

#include "common/error.hpp"
#include "daemon/auth.hpp"
#include "daemon/event_pruner.hpp"
#include "daemon/metrics.hpp"
#include "daemon/metrics_http.hpp"
#include "daemon/metrics_textfile.hpp"
#include "daemon/mount_watcher.hpp"
#include "daemon/policy_read.hpp"
#include "daemon/reload.hpp"
#include "daemon/uevent.hpp"
#include "fscore/embedded/ondisk/file_lock.hpp"
#include "fscore/volume.hpp"
#include "fscore/volume_factory.hpp"
#include "policy/daemon_config.hpp"
#include "policy/engine.hpp"
#include "policy/policy_file.hpp"
#include "policy/store.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

namespace daxpolicy::daemon
{

class Connection;

class Daemon
{
      public:
	// Mounts (and on first start creates) the volumes and opens the store.
	Daemon(boost::asio::io_context &io, policy::DaemonConfig config);
	~Daemon();

	// Starts serving on `listener`: bound by us (`own_socket`: its file's mode and group
	// are ours to set, at each reload too), or passed by systemd.
	void serve(boost::asio::local::stream_protocol::acceptor listener, bool own_socket);
	void stop();
	// How a reload reads the config again; without one, a reload reads only the policy.
	void set_config_loader(ConfigLoader loader) { config_loader_ = std::move(loader); }
	// Reads the config and the policy dir again off the event loop, and applies both, or
	// neither when either is wrong; then tells systemd, logs a `reload` event, and calls
	// `done` on the loop with the outcome. SIGHUP and `daxpolicy reload` both come here.
	void reload(std::function<void(const ReloadResult &)> done);
	// What `systemctl status` shows while the daemon serves.
	std::string serving_status() const;
	// Reads the policy files at `dir` off the event loop (a file may be slow to read, and
	// reading one must never stall the daemon), sorted against the volumes as the config's
	// unknown_volumes says, then logs its warnings and calls `done` on the loop. `named`: a
	// request named the dir, which must exist (the configured one may not yet).
	void load_policy(const std::filesystem::path &dir, bool named,
	                 std::function<void(PolicyRead)> done);

	const policy::DaemonConfig &config() const { return config_; }
	// Who may do what, by the groups of the config now in force.
	Access access() const { return {config_.admin_gid, config_.reader_gid}; }
	policy::Engine &engine() { return *engine_; }
	policy::Store &store() { return *store_; }
	Metrics &metrics() { return metrics_; }
	// The volume `name`, which must be able to do what `can` says (`what` names it in the
	// error): not-found for no such volume, unsupported for one that cannot.
	fscore::Volume &volume(const std::string &name, bool fscore::VolumeCapabilities::*can,
	                       const char *what);
	// The volume and path a file name names: VOLUME:/path, or an absolute host path in a
	// host volume's mount (the innermost, where mounts nest). invalid-argument otherwise.
	std::pair<std::string, std::string> file_of(const std::string &name) const;
	// Why the volume cannot serve now (its mount went away), or nothing.
	std::optional<std::string> unavailable(const std::string &volume) const;
	boost::asio::io_context &io_context() { return io_; }
	double uptime_s() const;

	// Runs work of the loop that answers no request: a failure is logged and counted as
	// an internal error, and the daemon goes on.
	void run_guarded(const char *what, const std::function<void()> &work);
	// Runs `work`, guarded, on the loop after `delay` (zero: after what is queued now).
	void run_later(std::chrono::milliseconds delay, std::function<void()> work);

	// Monitors: connections following the event log.
	void add_monitor(const std::shared_ptr<Connection> &c) { monitors_.insert(c); }
	void forget(Connection *c);

	// The input buffered across all connections beyond each one's small allowance: many
	// peers each half-sending a large request cannot add up to more than this. A
	// connection that cannot take its share waits (`waiter` reads again when input is
	// given back); one that makes no progress meanwhile is closed when idle.
	static constexpr size_t kInputBudget = 64 << 20;
	bool take_input(size_t bytes, const std::shared_ptr<Connection> &waiter);
	void give_input(size_t bytes);

	// A monitor with more than this of events unread is dropped, with a logged reason.
	static constexpr size_t kMaxMonitorBacklog = 4 << 20;

      private:
	void accept();
	void close_connections();
	void admit(boost::asio::local::stream_protocol::socket socket);
	// What a peer of role none is told: whom the daemon serves.
	std::string not_served_reason(const Peer &peer) const;
	// Tells a peer it is not served, and why, before its socket closes.
	void refuse(boost::asio::local::stream_protocol::socket &socket, Errc code,
	            const std::string &why);
	void broadcast(const policy::Event &event);
	// On the loop, with what the policy reader read: applies it, or says why not (`error`).
	ReloadResult finish_reload(std::optional<policy::DaemonConfig> fresh,
	                           const PolicyRead &read, std::optional<std::string> error);
	// Where apply and reload read the policy: `dir` with the volumes served now.
	PolicySource policy_source(const std::filesystem::path &dir, bool named,
	                           policy::UnknownVolumes unknown_volumes) const;
	// The read's warnings in the daemon's log.
	void log_warnings(const PolicyRead &read);
	// The socket file's mode and group as `config` says (our own file), or a warning where
	// systemd's keeps out whom the config lets in (`mismatch`, found off the loop).
	void follow_socket_access(const policy::DaemonConfig &config,
	                          const std::optional<std::string> &mismatch);

	boost::asio::io_context &io_;
	policy::DaemonConfig config_;
	ConfigLoader config_loader_;
	std::unique_ptr<fscore::LockedFile> state_lock_; // first made, last gone
	std::chrono::steady_clock::time_point started_;
	Metrics metrics_;
	std::map<std::string, std::unique_ptr<fscore::Volume>> volumes_;
	std::unique_ptr<policy::Store> store_;
	std::unique_ptr<policy::Engine> engine_;
	std::unique_ptr<boost::asio::local::stream_protocol::acceptor> listener_;
	bool own_socket_ = false;
	std::set<std::shared_ptr<Connection>> monitors_;
	std::set<std::weak_ptr<Connection>, std::owner_less<>> connections_;
	// Accepting waits on this while descriptors are exhausted (EMFILE), rather than spin.
	boost::asio::steady_timer accept_backoff_;
	bool accept_paused_ = false;
	// Queued changes are tried again on this: each second on volumes that send no use
	// events (a change waits for a process it cannot hear go), every pending_recheck on the
	// others, in case a notification went missing.
	void schedule_recheck();
	// After the mount table changed: a volume whose mount went is reported unavailable
	// (a `volume` event), one that is mounted again is opened anew and served.
	void check_mounts();
	// How volumes are opened, at start and when a mount comes back.
	fscore::OpenOptions open_options() const;
	std::unique_ptr<MountWatcher> mount_watcher_;
	// A device of a host volume came or went: logged, then the mounts are checked.
	void device_changed(const Uevent &e);
	std::unique_ptr<UeventListener> uevents_;
	std::map<std::string, std::string> unavailable_; // volume: why
	boost::asio::steady_timer recheck_timer_;
	std::unique_ptr<EventPruner> pruner_;
	std::chrono::steady_clock::time_point last_full_recheck_ = std::chrono::steady_clock::now();
	static constexpr size_t kRecheckPerTick = 1024;     // queued changes a volume, per tick
	std::unique_ptr<MetricsServer> metrics_server_;     // metrics_listen
	std::unique_ptr<MetricsTextfile> metrics_textfile_; // metrics_textfile
	size_t input_used_ = 0;
	std::vector<std::weak_ptr<Connection>> input_waiters_;
	// Reads policy files; last, so that it is joined before anything its work refers to goes.
	boost::asio::thread_pool policy_reader_{1};
};

} // namespace daxpolicy::daemon
