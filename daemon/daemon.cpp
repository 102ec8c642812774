#include "daemon/daemon.hpp"

#include "daemon/connection.hpp"
#include "daemon/wire/varlink.hpp"
#include "fscore/error.hpp"
#include "fscore/file_lock.hpp"
#include "policy/policy_file.hpp"

#include <boost/asio/post.hpp>
#include <iostream>

namespace daxpolicy::daemon
{

namespace asio = boost::asio;

Daemon::Daemon(asio::io_context &io, Config config)
    : io_(io), config_(std::move(config)), started_(std::chrono::steady_clock::now())
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
		if (v.kind != "embedded")
			throw Error(Errc::unsupported,
			            "volume '" + v.name +
			                "': host volumes are not supported by this "
			                "version of daxpolicyd");
		bool created = false;
		if (!std::filesystem::exists(v.path)) {
			if (!v.size)
				throw Error(Errc::not_found,
				            "volume '" + v.name + "': pool " + v.path.string() +
				                " does not exist (give the volume a size to have "
				                "daxpolicyd make it)");
			std::cerr << "daxpolicyd: warning: volume '" << v.name << "': making a new "
			          << *v.size << "-byte pool at " << v.path.string() << "\n";
			fscore::EmbeddedVolume::mkfs(v.path, *v.size);
			created = true;
		}
		auto vol = fscore::EmbeddedVolume::mount(
		    v.path, {v.name, v.dax, config_.lease_break_timeout});
		mounted.emplace_back(v.name,
		                     nlohmann::json{{"action", "mounted"},
		                                    {"created", created},
		                                    {"unclean", vol->was_unclean()},
		                                    {"journal_replayed", vol->replayed_journal()}});
		volumes[v.name] = vol.get();
		embedded_[v.name] = std::move(vol);
	}
	engine_ = std::make_unique<policy::Engine>(
	    *store_, volumes, [this](std::function<void()> f) { asio::post(io_, std::move(f)); });
	engine_->set_event_sink([this](const policy::Event &e) { broadcast(e); });
	for (const auto &[name, data] : mounted)
		engine_->log("volume", name, "/", data);
	engine_->start();
}

Daemon::~Daemon()
{
	// Connections (and their sessions) go before the volumes they hold files of.
	for (const auto &weak : connections_)
		if (auto c = weak.lock())
			c->close();
	monitors_.clear();
}

fscore::EmbeddedVolume &Daemon::embedded(const std::string &name)
{
	auto it = embedded_.find(name);
	if (it == embedded_.end())
		throw Error(engine_->volumes().count(name) ? Errc::unsupported : Errc::not_found,
		            "no embedded volume named '" + name + "'");
	return *it->second;
}

double Daemon::uptime_s() const
{
	return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
}

void Daemon::serve(asio::local::stream_protocol::acceptor listener)
{
	listener_ = std::make_unique<asio::local::stream_protocol::acceptor>(std::move(listener));
	accept();
}

void Daemon::accept()
{
	listener_->async_accept(
	    [this](boost::system::error_code ec, asio::local::stream_protocol::socket socket) {
		    if (ec == asio::error::operation_aborted)
			    return;
		    if (!ec) {
			    try {
				    auto c = std::make_shared<Connection>(*this, std::move(socket));
				    connections_.insert(c);
				    c->start();
			    } catch (const Error &e) {
				    std::cerr << "daxpolicyd: refused a connection: " << e.what()
				              << "\n";
			    }
		    }
		    accept();
	    });
}

void Daemon::stop()
{
	if (listener_) {
		boost::system::error_code ignored; // closing a listener that failed is no news
		listener_->close(ignored);
	}
	for (const auto &weak : connections_)
		if (auto c = weak.lock())
			c->close();
}

void Daemon::forget(Connection *c)
{
	std::erase_if(monitors_, [c](const auto &m) { return m.get() == c; });
	std::erase_if(connections_, [](const auto &w) { return w.expired(); });
}

void Daemon::broadcast(const policy::Event &event)
{
	metrics_.events[event.type]++;
	auto message = wire::make_reply(event.to_json(), true);
	for (const auto &m : monitors_)
		if (!m->monitor_type || *m->monitor_type == event.type)
			m->send(message);
}

void Daemon::reload()
{
	auto load = policy::load_policy_path(config_.policy_dir);
	if (!load.ok()) {
		for (const auto &e : load.errors)
			std::cerr << "daxpolicyd: reload: " << e.to_string() << "\n";
		return;
	}
	try {
		engine_->apply(load.rules, false);
	} catch (const Error &e) {
		std::cerr << "daxpolicyd: reload: " << e.what() << "\n";
	}
}

} // namespace daxpolicy::daemon
