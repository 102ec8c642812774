// SPDX-License-Identifier: BSD-3-Clause
// Metrics as Prometheus takes them: GET /metrics on metrics_listen and the node_exporter
// textfile, both accepted by `promtool check metrics`, every label value there from the
// start, and the HTTP side bounded.
#include "tests/e2e/harness.hpp"

#include <arpa/inet.h>
#include <fstream>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace daxpolicy::test;

namespace
{

// A port free now on the loopback, for the daemon to listen on.
uint16_t free_port()
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sockaddr_in addr{};
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)), 0);
	socklen_t len = sizeof(addr);
	getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len);
	close(fd);
	return ntohs(addr.sin_port);
}

// Sends `request` as it is and returns all the server sent back before it closed.
std::string http(uint16_t port, const std::string &request)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sockaddr_in addr{};
	addr.sin_family = AF_INET;
	addr.sin_port = htons(port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)), 0);
	for (size_t sent = 0; sent < request.size();) {
		ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
		if (n <= 0)
			break; // closed on us: what it said is read below
		sent += static_cast<size_t>(n);
	}
	std::string reply;
	char buf[65536];
	for (ssize_t n; (n = recv(fd, buf, sizeof(buf), 0)) > 0;)
		reply.append(buf, static_cast<size_t>(n));
	close(fd);
	return reply;
}

std::string get_metrics(uint16_t port)
{
	return http(port, "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");
}

std::string body_of(const std::string &response)
{
	auto at = response.find("\r\n\r\n");
	return at == std::string::npos ? "" : response.substr(at + 4);
}

// `promtool check metrics` on `text`: its exit code, and what it said.
Result promtool(const std::string &text)
{
	return run({"/usr/bin/promtool", "check", "metrics"}, text);
}

std::string slurp(const std::filesystem::path &file)
{
	std::ifstream in(file);
	return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(Metrics, ScrapedOverHttpAndAsATextfileTheyPassPromtool)
{
	ASSERT_TRUE(std::filesystem::exists("/usr/bin/promtool"))
	    << "promtool is missing: scripts/install-deps.sh installs it (Debian's prometheus)";
	TempDir out;
	uint16_t port = free_port();
	auto textfile = out / "daxpolicy.prom";
	Daemon d("metrics_listen = \"127.0.0.1:" + std::to_string(port) +
	         "\"\nmetrics_textfile = \"" + textfile.string() + "\"\n");
	d.ok({"io", "-f", "-c", "pwrite 0 4k", "pool0:/f"});
	d.ok({"set-dax", "pool0:/f"});

	std::string response = get_metrics(port);
	EXPECT_EQ(response.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << response;
	EXPECT_NE(response.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
	std::string text = body_of(response);
	Result check = promtool(text);
	EXPECT_EQ(check.exit_code, 0) << check.out << check.err << text;
	for (const char *line :
	     {"daxpolicy_build_info{version=\"",
	      "daxpolicy_flag_changes_total{cause=\"request\"} 1\n",
	      // Every label value from the start, at 0.
	      "daxpolicy_flag_changes_total{cause=\"drift\"} 0\n",
	      "daxpolicy_lease_breaks_total{outcome=\"revoked\"} 0\n",
	      "daxpolicy_request_errors_total{code=\"corrupted\"} 0\n",
	      "daxpolicy_reconcile_jobs_total{state=\"failed\"} ",
	      "daxpolicy_events_total{type=\"lease-revoked\"} 0\n", "daxpolicy_deferrals_total 0\n",
	      "daxpolicy_lease_revocations_total 0\n", "daxpolicy_reload_failures_total 0\n",
	      "daxpolicy_request_duration_seconds_count{method=\"SetDax\"} 1\n",
	      "daxpolicy_request_duration_seconds_bucket{method=\"ListEvents\",le=\"+Inf\"} 0\n",
	      "daxpolicy_reconcile_duration_seconds_bucket{le=\"+Inf\"} ",
	      "daxpolicy_volume_used_bytes{volume=\"pool0\"} ",
	      "daxpolicy_volume_inodes_used{volume=\"pool0\"} "})
		EXPECT_NE(text.find(line), std::string::npos) << line;

	// The textfile: written at start, and at exit with the final counts.
	Result at_start = promtool(slurp(textfile));
	EXPECT_EQ(at_start.exit_code, 0) << at_start.out << at_start.err;
	d.stop();
	std::string last = slurp(textfile);
	Result at_exit = promtool(last);
	EXPECT_EQ(at_exit.exit_code, 0) << at_exit.out << at_exit.err;
	EXPECT_NE(last.find("daxpolicy_metrics_scrapes_total 1\n"), std::string::npos) << last;
	EXPECT_FALSE(std::filesystem::exists(textfile.string() + ".tmp"));
}

TEST(Metrics, TheHttpSideAnswersOnlyMetricsAndRefusesOversizedRequests)
{
	uint16_t port = free_port();
	Daemon d("metrics_listen = \"127.0.0.1:" + std::to_string(port) + "\"\n");
	EXPECT_EQ(http(port, "GET /other HTTP/1.1\r\nHost: x\r\n\r\n").rfind("HTTP/1.1 404", 0),
	          0u);
	EXPECT_EQ(http(port, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
	              .rfind("HTTP/1.1 405", 0),
	          0u);
	// A header past the bound is not answered, and costs the daemon nothing lasting.
	std::string huge =
	    "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(64 << 10, 'a') + "\r\n\r\n";
	EXPECT_EQ(http(port, huge).find("200 OK"), std::string::npos);
	EXPECT_EQ(get_metrics(port).rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
	d.ok({"status"});
}

} // namespace
