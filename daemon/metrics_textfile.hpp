// SPDX-License-Identifier: BSD-3-Clause
// metrics_textfile: the metrics in node_exporter's textfile format, rewritten every kPeriod
// and at exit. Each write goes to a temporary file beside it and is renamed over it, so that
// node_exporter never reads half a file (and, not ending in .prom, never the temporary one).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>

namespace daxpolicy::daemon
{

class MetricsTextfile
{
      public:
	static constexpr std::chrono::seconds kPeriod{15};

	// Writes the file at once (a folder it cannot write fails the start, naming it), then
	// every kPeriod.
	MetricsTextfile(boost::asio::io_context &io, std::filesystem::path file,
	                std::function<std::string()> render);
	// The last write, with the final counts.
	void stop();

      private:
	void write();
	void schedule();

	std::filesystem::path file_;
	std::function<std::string()> render_;
	boost::asio::steady_timer timer_;
	bool stopped_ = false;
};

} // namespace daxpolicy::daemon
