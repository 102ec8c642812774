// SPDX-License-Identifier: BSD-3-Clause
// The io.daxpolicy interface: one method per CLI command.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace daxpolicy::daemon
{

class Daemon;
class Connection;

// Runs `method` for the connection's peer and returns the reply's parameters. Throws Error
// (permission-denied for a peer that may only read, not-found for an unknown method, ...).
// Monitor replies through the connection itself and returns nothing.
std::optional<nlohmann::json> call_method(Daemon &daemon, Connection &connection,
                                          const std::string &method, const nlohmann::json &params,
                                          bool more);

} // namespace daxpolicy::daemon
