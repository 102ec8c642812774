// Everything one daxpolicyd process serves: config, volumes, store, engine, and the socket.
// All of it lives on one thread, the Asio event loop; volume notifications are posted to it.
#pragma once

#include "daemon/config.hpp"
#include "daemon/metrics.hpp"
#include "fscore/embedded_volume.hpp"
#include "fscore/file_lock.hpp"
#include "policy/engine.hpp"
#include "policy/store.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <chrono>
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
	Daemon(boost::asio::io_context &io, Config config);
	~Daemon();

	// Starts serving on `listener` (bound by us, or passed by systemd).
	void serve(boost::asio::local::stream_protocol::acceptor listener);
	void stop();
	// Applies the policy dir (SIGHUP), logging rather than failing.
	void reload();

	const Config &config() const { return config_; }
	policy::Engine &engine() { return *engine_; }
	policy::Store &store() { return *store_; }
	Metrics &metrics() { return metrics_; }
	fscore::EmbeddedVolume &embedded(const std::string &name);
	bool has_embedded(const std::string &name) const { return embedded_.count(name); }
	boost::asio::io_context &io_context() { return io_; }
	double uptime_s() const;

	// Monitors: connections following the event log.
	void add_monitor(const std::shared_ptr<Connection> &c) { monitors_.insert(c); }
	void forget(Connection *c);

      private:
	void accept();
	void broadcast(const policy::Event &event);

	boost::asio::io_context &io_;
	Config config_;
	std::unique_ptr<fscore::LockedFile> state_lock_; // first made, last gone
	std::chrono::steady_clock::time_point started_;
	Metrics metrics_;
	std::map<std::string, std::unique_ptr<fscore::EmbeddedVolume>> embedded_;
	std::unique_ptr<policy::Store> store_;
	std::unique_ptr<policy::Engine> engine_;
	std::unique_ptr<boost::asio::local::stream_protocol::acceptor> listener_;
	std::set<std::shared_ptr<Connection>> monitors_;
	std::set<std::weak_ptr<Connection>, std::owner_less<>> connections_;
};

} // namespace daxpolicy::daemon
