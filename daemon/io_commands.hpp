// SPDX-License-Identifier: BSD-3-Clause
// The commands of `daxpolicy io`, one table row each (name, arguments, what they need, the
// function), as xfs_io's cmdinfo_t table: adding a command is adding a row.
#pragma once

#include "fscore/session.hpp"

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace daxpolicy::daemon
{

// What the commands of one io session work on: one file of one volume, opened at its first
// use, and the mappings made of it (the last is the current one).
struct IoTarget {
	IoTarget(fscore::Volume &volume, std::string volume_name, std::string path,
	         std::unique_ptr<fscore::Session> session)
	    : volume(volume), volume_name(std::move(volume_name)), path(std::move(path)),
	      session(std::move(session))
	{
	}

	fscore::Volume &volume;
	std::string volume_name;
	std::string path;
	std::unique_ptr<fscore::Session> session;
	std::optional<int> fd;
	std::vector<int> maps;
	bool create = false; // the CLI's -f: a missing file is made at its first open

	int file();
	fscore::FileInfo file_info();
};

// One command's reply, and whether the file's view (rules, state) goes with it.
struct IoOutput {
	nlohmann::json out;
	bool shows_file = false;
	// A command that set the flag: what it was before, for the flag-change event.
	std::optional<bool> flag_was = std::nullopt;
};

// Parses and runs one command line (argv[0] is the command). Throws Error, invalid-argument
// for an unknown command or bad arguments, naming the command.
IoOutput run_io_command(IoTarget &target, const std::vector<std::string> &argv);

} // namespace daxpolicy::daemon
