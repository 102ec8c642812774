// SPDX-License-Identifier: BSD-3-Clause
// `io [-f] [-c CMD]... PATH`: an xfs_io-style session, commands from -c or one a line from stdin.
#include "cli/call.hpp"
#include "cli/command.hpp"
#include "wire/client.hpp"
#include "wire/varlink.hpp"

#include <chrono>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>

namespace daxpolicy::cli
{

namespace
{

std::vector<std::string> split_words(const std::string &line)
{
	std::istringstream in(line);
	std::vector<std::string> words;
	for (std::string w; in >> w;)
		words.push_back(w);
	return words;
}

// Prints one line and flushes, so a script reading our stdout sees each command as it ends.
void emit(const nlohmann::json &line)
{
	std::cout << line.dump() << std::endl;
}

// Runs one command; false when it failed (the session ends).
bool run_one(wire::Client &client, const std::string &path, const std::vector<std::string> &argv,
             bool create)
{
	if (argv[0] == "sleep") {
		// Sleeping is the client's: the daemon keeps serving everyone else meanwhile.
		long ms = -1;
		if (argv.size() == 2) {
			try {
				ms = std::stol(argv[1]);
			} catch (const std::exception &) {
				ms = -1; // reported below
			}
		}
		if (ms < 0) {
			emit({{"cmd", "sleep"},
			      {"error", "invalid-argument"},
			      {"message", "sleep: expected milliseconds"}});
			return false;
		}
		std::this_thread::sleep_for(std::chrono::milliseconds(ms));
		emit({{"cmd", "sleep"}, {"ms", ms}});
		return true;
	}
	try {
		emit(client.call(wire::Method::io, {{wire::param::path, path},
		                                    {wire::param::argv, argv},
		                                    {wire::param::create, create}}));
		return true;
	} catch (const Error &e) {
		emit({{"cmd", argv[0]}, {"error", errc_name(e.code())}, {"message", e.what()}});
		return false;
	}
}

int run_io(const Globals &g, const std::string &path, const std::vector<std::string> &commands,
           bool create)
{
	wire::Client client(g.socket);
	if (!commands.empty()) {
		for (const auto &c : commands) {
			auto argv = split_words(c);
			if (!argv.empty() && !run_one(client, path, argv, create))
				return 1;
		}
		return 0;
	}
	for (std::string line; std::getline(std::cin, line);) {
		auto argv = split_words(line);
		if (argv.empty() || argv[0][0] == '#')
			continue;
		if (argv[0] == "quit" || argv[0] == "exit")
			break;
		if (!run_one(client, path, argv, create))
			return 1;
	}
	return 0;
}

struct IoOptions {
	bool create = false;
	std::vector<std::string> commands;
	std::string path;
};

} // namespace

Action cmd_io(CLI::App &cmd, const Globals &g)
{
	auto o = std::make_shared<IoOptions>();
	cmd.add_flag("-f", o->create, "create the file if it is missing");
	cmd.add_option("-c", o->commands, "a command; repeat for more (default: read stdin)");
	cmd.add_option("PATH", o->path, "VOLUME:/path")->required()->transform(file_name_arg);
	return [&g, o] { return run_io(g, o->path, o->commands, o->create); };
}

} // namespace daxpolicy::cli
