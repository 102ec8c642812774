// SPDX-License-Identifier: BSD-3-Clause
// What the commands that talk to daxpolicyd share: one call, and the shaping of parameters.
#pragma once

#include "cli/command.hpp"
#include "wire/interface.hpp"

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace daxpolicy::cli
{

// What every command file names: the interface's methods and keys, and JSON.
using nlohmann::json;
using wire::Method;
namespace param = wire::param;
namespace reply = wire::reply;

// One call on a fresh connection to g.socket; throws wire::Unreachable or the daemon's Error.
nlohmann::json call(const Globals &g, wire::Method method,
                    nlohmann::json params = nlohmann::json::object());

// Calls a list method (one with wire::MethodSpec::list) with "more" and prints each part as
// it arrives (ListPrinter), so that a list of any length prints with flat memory. `shape`,
// if given, rewrites each item before it is printed.
void print_list(const Globals &g, wire::Method method, nlohmann::json params,
                const std::vector<std::string> &columns,
                const std::function<void(nlohmann::json &items)> &shape = {});

// A relative local path means the caller's folder, not the daemon's.
std::string absolute(const std::string &path);

// A file as the user named it: VOLUME:/path as it is; anything else is a host path (in a
// host volume's mount), made absolute from the caller's folder, as xfs_io takes paths.
// For CLI11's transform().
std::string file_name_arg(const std::string &arg);

// Sets params[key] only when the user gave a value: an absent key is the daemon's default
// (every file, any type, the whole log), which no string stands for.
void set_given(nlohmann::json &params, const char *key, const std::string &value);

} // namespace daxpolicy::cli
