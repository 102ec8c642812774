// SPDX-License-Identifier: BSD-3-Clause
#include "daemon/daemon.hpp"

#include "common/error.hpp"
#include "daemon/auth.hpp"
#include "daemon/connection.hpp"
#include "daemon/log.hpp"
#include "daemon/notify.hpp"
#include "daemon/socket_access.hpp"
#include "daemon/views.hpp"
#include "fscore/embedded/ondisk/file_lock.hpp"
#include "fscore/volume_factory.hpp"
#include "policy/policy_file.hpp"
#include "wire/varlink.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <daxpolicy/version.hpp>
#include <sys/socket.h>

namespace daxpolicy::daemon
{

namespace asio = boost::asio;

Daemon::Daemon(asio::io_context &io, policy::DaemonConfig config)
    : io_(io), config_(std::move(config)), started_(std::chrono::steady_clock::now()),
      accept_backoff_(io), recheck_timer_(io)
{
	std::filesystem::create_directories(config_.state_dir);
	// One state dir, one daemon, and the lock before anything else: a second daemon must
	// not open the queue of the first, nor mount (replay, free orphans of) its pools.
	state_lock_ = std::make_unique<fscore::LockedFile>(
	    (config_.state_dir / "daxpolicyd.lock").string(), fscore::LockMode::exclusive,
	    "state dir " + config_.state_dir.string() + ": another daxpolicyd");
	store_ = std::make_unique<policy::Store>(config_.state_dir / "daxpolicy.db");
	std::map<std::string, fscore::Volume *> volumes;
	std::vector<std::pair<std::string, nlohmann::json>> mounted;
	for (const auto &v : config_.volumes) {
		auto [vol, report] = fscore::open_volume(v, open_options());
		LogFields about{{"DAXPOLICY_VOLUME", v.name}};
		if (report.created)
			log(Priority::warning,
			    "volume '" + v.name + "': made a new " + std::to_string(*v.size) +
			        "-byte pool at " + v.path.string(),
			    about);
		if (report.unclean)
			log(Priority::warning,
			    "volume '" + v.name + "' was not unmounted cleanly (a crash)" +
			        (report.journal_replayed ? "; its journal was replayed" : ""),
			    about);
		mounted.emplace_back(v.name,
		                     nlohmann::json{{"action", "mounted"},
		                                    {"created", report.created},
		                                    {"unclean", report.unclean},
		                                    {"journal_replayed", report.journal_replayed}});
		volumes[v.name] = vol.get();
		volumes_[v.name] = std::move(vol);
	}
	// What the engine hands the loop (volume notifications) fails alone, as a request does.
	engine_ = std::make_unique<policy::Engine>(
	    *store_, volumes,
	    [this](std::function<void()> f) {
		    asio::post(io_, [this, f = std::move(f)] { run_guarded("a notification", f); });
	    },
	    [this](std::chrono::milliseconds delay, std::function<void()> f) {
		    run_later(delay, std::move(f));
	    });
	engine_->set_reconcile_rate(config_.reconcile_rate);
	engine_->set_event_sink([this](const policy::Event &e) { broadcast(e); });
	for (const auto &[name, data] : mounted)
		engine_->log("volume", name, "/", data);
	engine_->start();
	schedule_recheck();
	pruner_ =
	    std::make_unique<EventPruner>(io_, *store_, config_.event_retention, config_.event_max,
	                                  [this](const std::function<void()> &step) {
		                                  run_guarded("pruning the event log", step);
	                                  });
	mount_watcher_ = std::make_unique<MountWatcher>(io_, [this] {
		run_guarded("checking the volumes' mounts", [this] { check_mounts(); });
	});
	try {
		uevents_ = std::make_unique<UeventListener>(io_, [this](const Uevent &e) {
			run_guarded("a device event", [&] { device_changed(e); });
		});
	} catch (const Error &e) {
		// A container without netlink: mounts are still watched, devices are not.
		log(Priority::warning, std::string("device events are not heard: ") + e.what());
	}
}

fscore::OpenOptions Daemon::open_options() const
{
	return {config_.lease_break_timeout, config_.test.host_force_ioctl,
	        config_.test.host_hold_lease};
}

void Daemon::device_changed(const Uevent &e)
{
	if (!e.major || !e.minor)
		return;
	std::string device = std::to_string(*e.major) + ":" + std::to_string(*e.minor);
	for (const auto &[name, vol] : volumes_)
		if (vol->info().device == device)
			engine_->log("volume", name, "/",
			             {{"action", "device-" + e.action},
			              {"device", e.devname.empty() ? device : e.devname}});
	check_mounts();
}

std::optional<std::string> Daemon::unavailable(const std::string &volume) const
{
	auto it = unavailable_.find(volume);
	return it == unavailable_.end() ? std::nullopt : std::optional(it->second);
}

void Daemon::check_mounts()
{
	for (auto &[name, vol] : volumes_) {
		if (!unavailable_.count(name)) {
			if (auto why = vol->unavailable()) {
				unavailable_[name] = *why;
				engine_->set_unavailable(name, *why);
				engine_->log("volume", name, "/",
				             {{"action", "unavailable"}, {"reason", *why}});
			}
			continue;
		}
		// Gone before: served again once its mount point holds a mount it can open, as
		// at start (a new mount, maybe of another filesystem).
		auto spec =
		    std::find_if(config_.volumes.begin(), config_.volumes.end(),
		                 [&volume = name](const auto &v) { return v.name == volume; });
		std::unique_ptr<fscore::Volume> fresh;
		try {
			fresh = fscore::open_volume(*spec, open_options()).volume;
		} catch (const Error &) {
			continue; // not back yet
		}
		engine_->replace_volume(name, *fresh);
		vol = std::move(fresh); // the old one goes once the engine has let go of it
		unavailable_.erase(name);
		engine_->log("volume", name, "/", {{"action", "available"}});
	}
}

void Daemon::schedule_recheck()
{
	recheck_timer_.expires_after(std::chrono::seconds(1));
	recheck_timer_.async_wait([this](boost::system::error_code ec) {
		if (ec)
			return; // cancelled: the daemon is stopping
		auto now = std::chrono::steady_clock::now();
		bool all = now - last_full_recheck_ >= config_.pending_recheck;
		if (all)
			last_full_recheck_ = now;
		for (const auto &[name, vol] : volumes_)
			if (all || !vol->info().can.use_events)
				run_guarded("re-checking queued changes", [&, name = name] {
					engine_->retry_pending(name, kRecheckPerTick);
				});
		schedule_recheck();
	});
}

Daemon::~Daemon()
{
	// Connections (and their sessions) go before the volumes they hold files of.
	close_connections();
	monitors_.clear();
}

fscore::Volume &Daemon::volume(const std::string &name, bool fscore::VolumeCapabilities::*can,
                               const char *what)
{
	auto it = volumes_.find(name);
	if (it == volumes_.end())
		throw Error(Errc::not_found, "no volume named '" + name + "'");
	if (!(it->second->info().can.*can))
		throw Error(Errc::unsupported, "volume '" + name + "' has no " + what);
	return *it->second;
}

std::pair<std::string, std::string> Daemon::file_of(const std::string &name) const
{
	if (name.empty() || name[0] != '/')
		return split_file_name(name);
	std::optional<std::pair<std::string, std::string>> found;
	for (const auto &[volume, vol] : volumes_) {
		auto path = vol->volume_path(name);
		if (path && (!found || path->size() < found->second.size()))
			found.emplace(volume, *path);
	}
	if (!found)
		throw Error(Errc::invalid_argument,
		            "'" + name +
		                "' is in no host volume's mount; name a file as "
		                "VOLUME:/path (for example pool0:/db)");
	return split_file_name(file_name(found->first, found->second));
}

double Daemon::uptime_s() const
{
	return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
}

void Daemon::serve(asio::local::stream_protocol::acceptor listener, bool own_socket)
{
	listener_ = std::make_unique<asio::local::stream_protocol::acceptor>(std::move(listener));
	own_socket_ = own_socket;
	if (!own_socket_)
		follow_socket_access(config_, socket_access_mismatch(config_));
	accept();
	auto render = [this] { return render_metrics(*this); };
	if (config_.metrics_listen) {
		auto [address, port] = *policy::parse_listen_address(*config_.metrics_listen);
		metrics_server_ = std::make_unique<MetricsServer>(
		    io_, address, port, render, [this] { metrics_.http_requests++; });
	}
	if (config_.metrics_textfile)
		metrics_textfile_ =
		    std::make_unique<MetricsTextfile>(io_, *config_.metrics_textfile, render);
	std::string volumes;
	for (const auto &v : config_.volumes)
		volumes += (volumes.empty() ? "" : ", ") + v.name + " (" +
		           fscore::volume_kind_name(v.kind) + ", " + v.path.string() + ")";
	log(Priority::info,
	    std::string("version ") + kVersion + ", " + serving_status() + ": " + volumes,
	    {{"DAXPOLICY_VOLUMES", volumes}});
}

void Daemon::accept()
{
	listener_->async_accept(
	    [this](boost::system::error_code ec, asio::local::stream_protocol::socket socket) {
		    if (ec == asio::error::operation_aborted || !listener_->is_open())
			    return;
		    if (ec == asio::error::no_descriptors || ec.value() == ENFILE ||
		        ec == asio::error::no_buffer_space || ec == asio::error::no_memory) {
			    // The connection stays in the listen queue; accepting again at once
			    // would fail again at once, for ever. Wait until a connection of ours
			    // closes, or a moment passes.
			    if (!accept_paused_)
				    log(Priority::warning,
				        "accept: " + ec.message() + "; new connections wait");
			    accept_paused_ = true;
			    accept_backoff_.expires_after(std::chrono::milliseconds(250));
			    accept_backoff_.async_wait([this](boost::system::error_code) {
				    if (listener_->is_open())
					    accept();
			    });
			    return;
		    }
		    accept_paused_ = false;
		    if (ec)
			    log(Priority::err, "accept: " + ec.message());
		    else
			    admit(std::move(socket));
		    accept();
	    });
}

void Daemon::admit(asio::local::stream_protocol::socket socket)
{
	try {
		Peer peer = peer_of(socket.native_handle());
		Role role = role_of(peer, access());
		if (role == Role::none) {
			refuse(socket, Errc::permission_denied, not_served_reason(peer));
			return;
		}
		// Root and the admin group are let in beyond the cap, so that readers holding every
		// place cannot lock the administrator out (descriptors still bound everyone).
		if (metrics_.connections_open >= config_.max_connections && role != Role::admin) {
			metrics_.connections_rejected++;
			refuse(socket, Errc::busy,
			       "daxpolicyd serves at most " +
			           std::to_string(config_.max_connections) +
			           " connections at a time (max_connections); try again later");
			return;
		}
		auto c =
		    std::make_shared<Connection>(*this, std::move(socket), std::move(peer), role);
		connections_.insert(c);
		c->start();
	} catch (const std::exception &e) {
		log(Priority::warning, std::string("refused a connection: ") + e.what());
	}
}

std::string Daemon::not_served_reason(const Peer &peer) const
{
	return "uid " + std::to_string(peer.uid) +
	       " may not use daxpolicyd: it serves root and the members of groups '" +
	       *config_.reader_group + "' (reader_group) and '" + config_.admin_group +
	       "' (admin_group)";
}

// Told why, if its socket takes the few bytes at once, and closed: the connections already
// served keep their share of the daemon.
void Daemon::refuse(asio::local::stream_protocol::socket &socket, Errc code, const std::string &why)
{
	metrics_.errors[errc_name(code)]++;
	std::string reply = wire::frame(wire::make_error(code, why));
	[[maybe_unused]] ssize_t ignored =
	    ::send(socket.native_handle(), reply.data(), reply.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
}

void Daemon::stop()
{
	recheck_timer_.cancel();
	pruner_->stop();
	if (mount_watcher_)
		mount_watcher_->stop();
	if (uevents_)
		uevents_->stop();
	if (metrics_server_)
		metrics_server_->stop();
	if (metrics_textfile_)
		metrics_textfile_->stop();
	if (listener_) {
		boost::system::error_code ignored; // closing a listener that failed is no news
		listener_->close(ignored);
	}
	close_connections();
}

void Daemon::close_connections()
{
	// Closing one forgets it, which changes the set: go through a copy.
	for (const auto &weak : std::set(connections_))
		if (auto c = weak.lock())
			c->close();
}

void Daemon::run_later(std::chrono::milliseconds delay, std::function<void()> work)
{
	auto guarded = [this, work = std::move(work)] { run_guarded("a reconcile step", work); };
	if (delay.count() <= 0) {
		// After whatever the loop has queued now: a job's next step waits its turn.
		asio::post(io_, std::move(guarded));
		return;
	}
	auto timer = std::make_shared<asio::steady_timer>(io_, delay);
	timer->async_wait([timer, guarded = std::move(guarded)](boost::system::error_code ec) {
		if (!ec)
			guarded();
	});
}

void Daemon::run_guarded(const char *what, const std::function<void()> &work)
{
	try {
		work();
	} catch (const std::exception &e) {
		metrics_.errors[errc_name(Errc::internal)]++;
		log(Priority::err, std::string(what) + " failed: " + e.what());
	}
}

void Daemon::forget(Connection *c)
{
	std::erase_if(monitors_, [c](const auto &m) { return m.get() == c; });
	std::erase_if(connections_, [](const auto &w) { return w.expired(); });
	// A descriptor is free again: a connection waiting in the listen queue can have it.
	if (accept_paused_)
		accept_backoff_.cancel();
}

bool Daemon::take_input(size_t bytes, const std::shared_ptr<Connection> &waiter)
{
	if (input_used_ + bytes <= kInputBudget) {
		input_used_ += bytes;
		return true;
	}
	input_waiters_.push_back(waiter);
	return false;
}

void Daemon::give_input(size_t bytes)
{
	input_used_ -= bytes;
	if (bytes == 0 || input_waiters_.empty())
		return;
	// Each waiter tries again from the loop, not from inside the connection giving back.
	for (auto &weak : std::exchange(input_waiters_, {}))
		asio::post(io_, [weak] {
			if (auto c = weak.lock())
				c->resume_reading();
		});
}

void Daemon::broadcast(const policy::Event &event)
{
	metrics_.count_event(event);
	log_event(event);
	std::string framed = wire::frame(wire::make_reply(event.to_json(), true));
	std::vector<std::shared_ptr<Connection>> slow;
	for (const auto &m : monitors_) {
		if (m->backlog() > kMaxMonitorBacklog)
			slow.push_back(m);
		else
			m->offer_event(event, framed);
	}
	// Dropped rather than buffered without end; the log says whom and why.
	for (const auto &m : slow) {
		log(Priority::warning,
		    "dropped monitor of pid " + std::to_string(m->peer().pid) + " (uid " +
		        std::to_string(m->peer().uid) + "): more than " +
		        std::to_string(kMaxMonitorBacklog >> 20) + " MiB of events unread");
		metrics_.monitors_dropped++;
		m->close();
	}
}

PolicySource Daemon::policy_source(const std::filesystem::path &dir, bool named,
                                   policy::UnknownVolumes unknown_volumes) const
{
	PolicySource source{dir, named, {}, unknown_volumes};
	for (const auto &[name, vol] : volumes_)
		source.volumes.insert(name);
	return source;
}

void Daemon::log_warnings(const PolicyRead &read)
{
	for (const auto &w : read.warnings)
		log(Priority::warning, w);
}

void Daemon::load_policy(const std::filesystem::path &dir, bool named,
                         std::function<void(PolicyRead)> done)
{
	asio::post(policy_reader_, [this,
	                            source = policy_source(dir, named, config_.unknown_volumes),
	                            done = std::move(done)]() mutable {
		PolicyRead read = read_policy(source);
		asio::post(io_, [this, read = std::move(read), done = std::move(done)]() mutable {
			log_warnings(read);
			done(std::move(read));
		});
	});
}

void Daemon::reload(std::function<void(const ReloadResult &)> done)
{
	notify_reloading("reloading the config and " + config_.policy_dir.string());
	// The config names the policy dir, so both are read in one go by the policy reader.
	asio::post(policy_reader_,
	           [this, loader = config_loader_,
	            source = policy_source(config_.policy_dir, false, config_.unknown_volumes),
	            done = std::move(done)]() mutable {
		           std::optional<policy::DaemonConfig> fresh;
		           PolicyRead read;
		           std::optional<std::string> error, socket_mismatch;
		           try {
			           if (loader) {
				           fresh = loader();
				           source.dir = fresh->policy_dir;
				           source.unknown_volumes = fresh->unknown_volumes;
				           if (!own_socket_)
					           socket_mismatch = socket_access_mismatch(*fresh);
			           }
		           } catch (const std::exception &e) {
			           error = e.what(); // already "file:line:col: message"
		           }
		           if (!error)
			           read = read_policy(source);
		           for (const auto &e : read.load.errors)
			           error = (error ? *error + "\n" : "") + e.to_string();
		           asio::post(io_, [this, fresh = std::move(fresh), read = std::move(read),
		                            error = std::move(error),
		                            socket_mismatch = std::move(socket_mismatch),
		                            done = std::move(done)]() mutable {
			           log_warnings(read);
			           auto result =
			               finish_reload(std::move(fresh), read, std::move(error));
			           if (!result.error)
				           follow_socket_access(config_, socket_mismatch);
			           done(result);
		           });
	           });
}

ReloadResult Daemon::finish_reload(std::optional<policy::DaemonConfig> fresh,
                                   const PolicyRead &read, std::optional<std::string> error)
{
	ReloadResult result;
	metrics_.reloads++;
	try {
		if (error)
			throw Error(Errc::invalid_argument, *error);
		std::vector<std::string> restart;
		if (fresh) {
			restart = restart_needed(config_, *fresh);
			config_.policy_dir = fresh->policy_dir;
			// Roles follow at once, for connections made from now on (a connection's
			// is decided when it connects, by the groups its peer had then).
			config_.admin_group = fresh->admin_group;
			config_.admin_gid = fresh->admin_gid;
			config_.reader_group = fresh->reader_group;
			config_.reader_gid = fresh->reader_gid;
			config_.reconcile_rate = fresh->reconcile_rate;
			config_.unknown_volumes = fresh->unknown_volumes;
			engine_->set_reconcile_rate(config_.reconcile_rate);
		}
		policy::ApplyResult rules = engine_->apply(read.load.rules, false);
		log_skipped(*engine_, read.skipped);
		auto job = engine_->current_job();
		result.reply = {{"policy_dir", config_.policy_dir.string()},
		                {"rules",
		                 {{"added", rules.added},
		                  {"removed", rules.removed},
		                  {"changed", rules.changed},
		                  {"unchanged", rules.unchanged}}},
		                {wire::reply::job, job ? job->to_json() : nlohmann::json(nullptr)},
		                {wire::reply::restart_needed, restart}};
		add_notes(result.reply, read);
	} catch (const std::exception &e) {
		result.error = e.what();
	}
	nlohmann::json data = result.error
	                          ? nlohmann::json{{"outcome", "failed"}, {"error", *result.error}}
	                          : nlohmann::json{{"outcome", "ok"},
	                                           {"rules", result.reply["rules"]},
	                                           {wire::reply::restart_needed,
	                                            result.reply[wire::reply::restart_needed]}};
	run_guarded("logging the reload", [&] {
		engine_->log("reload", "", config_.policy_dir.string(), std::move(data));
	});
	if (result.error) {
		metrics_.reload_failures++;
		log(Priority::err,
		    "reload failed, the running config and policy stay: " + *result.error,
		    {{"DAXPOLICY_EVENT", "reload"}});
		notify_ready("reload failed: " + *result.error);
	} else {
		log(Priority::info,
		    "reloaded " + config_.policy_dir.string() + ": " + result.reply["rules"].dump(),
		    {{"DAXPOLICY_EVENT", "reload"}});
		notify_ready(serving_status());
	}
	return result;
}

void Daemon::follow_socket_access(const policy::DaemonConfig &config,
                                  const std::optional<std::string> &mismatch)
{
	run_guarded("setting the socket's mode and group", [&] {
		if (own_socket_)
			set_socket_access(config);
		else if (mismatch)
			log(Priority::warning, *mismatch);
	});
}

std::string Daemon::serving_status() const
{
	return "serving " + std::to_string(volumes_.size()) + " volume" +
	       (volumes_.size() == 1 ? "" : "s") + " on " + config_.socket.string();
}

} // namespace daxpolicy::daemon
