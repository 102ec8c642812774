// SPDX-License-Identifier: BSD-3-Clause
#include "daemon/metrics_http.hpp"

#include "common/error.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace daxpolicy::daemon
{

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace
{

class Scrape : public std::enable_shared_from_this<Scrape>
{
      public:
	Scrape(tcp::socket socket, std::shared_ptr<size_t> open,
	       std::function<std::string()> render, std::function<void()> served)
	    : stream_(std::move(socket)), open_(std::move(open)), render_(render), served_(served)
	{
		++*open_;
		parser_.header_limit(MetricsServer::kMaxRequest);
		parser_.body_limit(0);
	}
	~Scrape() { --*open_; }

	void start()
	{
		stream_.expires_after(MetricsServer::kTimeout);
		http::async_read(stream_, buffer_, parser_,
		                 [self = shared_from_this()](beast::error_code ec, size_t) {
			                 if (!ec)
				                 self->answer();
		                 });
	}

      private:
	void answer()
	{
		const auto &req = parser_.get();
		res_.version(req.version());
		res_.keep_alive(false);
		res_.set(http::field::server, "daxpolicyd");
		if (req.target() != "/metrics") {
			res_.result(http::status::not_found);
			res_.set(http::field::content_type, "text/plain");
			res_.body() = "daxpolicyd serves only /metrics\n";
		} else if (req.method() != http::verb::get && req.method() != http::verb::head) {
			res_.result(http::status::method_not_allowed);
			res_.set(http::field::allow, "GET, HEAD");
		} else {
			res_.result(http::status::ok);
			res_.set(http::field::content_type,
			         "text/plain; version=0.0.4; charset=utf-8");
			res_.body() = render_();
			served_();
		}
		res_.prepare_payload();
		if (req.method() == http::verb::head)
			res_.body().clear();
		http::async_write(
		    stream_, res_, [self = shared_from_this()](beast::error_code, size_t) {
			    beast::error_code ignored; // the scraper may be gone
			    self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
		    });
	}

	beast::tcp_stream stream_;
	beast::flat_buffer buffer_{MetricsServer::kMaxRequest};
	http::request_parser<http::empty_body> parser_;
	http::response<http::string_body> res_;
	std::shared_ptr<size_t> open_;
	std::function<std::string()> render_;
	std::function<void()> served_;
};

} // namespace

MetricsServer::MetricsServer(asio::io_context &io, const std::string &address, uint16_t port,
                             std::function<std::string()> render, std::function<void()> served)
    : acceptor_(io), retry_(io), render_(std::move(render)), served_(std::move(served))
{
	tcp::endpoint at(asio::ip::make_address(address), port);
	try {
		acceptor_.open(at.protocol());
		acceptor_.set_option(asio::socket_base::reuse_address(true));
		acceptor_.bind(at);
		acceptor_.listen();
	} catch (const boost::system::system_error &e) {
		throw Error(Errc::busy, "metrics_listen " + address + ":" + std::to_string(port) +
		                            ": " + e.code().message());
	}
	accept();
}

void MetricsServer::accept()
{
	acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
		if (ec == asio::error::operation_aborted || !acceptor_.is_open())
			return;
		// Beyond the bound the connection is closed unanswered; Prometheus tries again.
		if (!ec && *open_ < kMaxConnections)
			std::make_shared<Scrape>(std::move(socket), open_, render_, served_)
			    ->start();
		if (!ec) {
			accept();
			return;
		}
		// Out of descriptors, say: accepting again at once would fail again at once.
		retry_.expires_after(std::chrono::milliseconds(250));
		retry_.async_wait([this](beast::error_code again) {
			if (!again && acceptor_.is_open())
				accept();
		});
	});
}

void MetricsServer::stop()
{
	beast::error_code ignored;
	acceptor_.close(ignored);
	retry_.cancel();
}

} // namespace daxpolicy::daemon
