// SPDX-License-Identifier: BSD-3-Clause
// GET /metrics over HTTP (metrics_listen), with Boost.Beast on the daemon's event loop, for
// Prometheus to scrape. Each scrape is bounded: a request of at most kMaxRequest bytes, read
// and answered within kTimeout, at most kMaxConnections at a time (more are closed at once),
// one request a connection.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace daxpolicy::daemon
{

class MetricsServer
{
      public:
	static constexpr size_t kMaxRequest = 8192;
	static constexpr size_t kMaxConnections = 16;
	static constexpr std::chrono::seconds kTimeout{10};

	// Listens on `address:port` at once (a port in use fails the start, naming it);
	// `render` makes the text of each scrape.
	MetricsServer(boost::asio::io_context &io, const std::string &address, uint16_t port,
	              std::function<std::string()> render, std::function<void()> served);
	void stop();

      private:
	void accept();

	boost::asio::ip::tcp::acceptor acceptor_;
	boost::asio::steady_timer retry_;
	std::function<std::string()> render_;
	std::function<void()> served_;
	// Scrapes under way; shared with them, which may outlive the server at shutdown.
	std::shared_ptr<size_t> open_ = std::make_shared<size_t>(0);
};

} // namespace daxpolicy::daemon
