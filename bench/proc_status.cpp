// SPDX-License-Identifier: BSD-3-Clause
#include "bench/proc_status.hpp"

#include <fstream>
#include <stdexcept>

namespace daxpolicy::bench
{

namespace
{

std::string proc_file(pid_t pid, const char *name)
{
	return "/proc/" + (pid ? std::to_string(pid) : std::string("self")) + "/" + name;
}

} // namespace

double status_mib(const std::string &key, pid_t pid)
{
	std::string path = proc_file(pid, "status");
	std::ifstream in(path);
	std::string line;
	while (std::getline(in, line))
		if (line.rfind(key + ":", 0) == 0)
			return std::stod(line.substr(key.size() + 1)) / 1024;
	throw std::runtime_error(path + " has no " + key);
}

void reset_peak_rss(pid_t pid)
{
	std::string path = proc_file(pid, "clear_refs");
	std::ofstream out(path);
	out << "5\n";
	out.flush();
	if (!out)
		throw std::runtime_error("cannot write " + path);
}

} // namespace daxpolicy::bench
