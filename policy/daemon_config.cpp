// SPDX-License-Identifier: BSD-3-Clause
#include "policy/daemon_config.hpp"

#include "common/error.hpp"
#include "common/group_id.hpp"
#include "common/units.hpp"
#include "fscore/lease_info.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <toml++/toml.h>

namespace daxpolicy::policy
{

namespace
{

[[noreturn]] void fail(const std::filesystem::path &file, const toml::source_region &where,
                       const std::string &message)
{
	throw Error(Errc::invalid_argument, file.string() + ":" + std::to_string(where.begin.line) +
	                                        ":" + std::to_string(where.begin.column) + ": " +
	                                        message);
}

std::string string_of(const std::filesystem::path &file, const toml::node &node,
                      const std::string &key)
{
	if (auto s = node.value<std::string>())
		return *s;
	fail(file, node.source(), key + ": expected a string");
}

VolumeConfig volume_of(const std::filesystem::path &file, const toml::table &t)
{
	VolumeConfig v;
	std::optional<fscore::VolumeKind> kind;
	const toml::node *embedded_only = nullptr; // size or dax: where the first was
	for (const auto &[key, node] : t) {
		std::string k(key.str());
		std::string value = string_of(file, node, k);
		if (k == "name") {
			v.name = value;
		} else if (k == "kind") {
			kind = fscore::volume_kind_from_name(value);
			if (!kind)
				fail(file, node.source(),
				     "kind: expected \"embedded\" or \"host\"");
			v.kind = *kind;
		} else if (k == "path") {
			v.path = value;
		} else if (k == "size") {
			auto size = parse_size(value);
			if (!size)
				fail(file, node.source(), "size: \"" + value + "\" is not a size");
			v.size = *size;
			embedded_only = embedded_only ? embedded_only : &node;
		} else if (k == "dax") {
			auto mode = fscore::dax_mode_from_name(value);
			if (!mode)
				fail(file, node.source(), "dax: expected always, never or inode");
			v.dax = *mode;
			embedded_only = embedded_only ? embedded_only : &node;
		} else {
			fail(file, node.source(), "unknown key \"" + k + "\" in [[volume]]");
		}
	}
	if (v.name.empty())
		fail(file, t.source(), "[[volume]] needs a name");
	if (!kind)
		fail(file, t.source(), "volume '" + v.name + "' needs a kind");
	if (v.kind == fscore::VolumeKind::host && v.path.empty())
		fail(file, t.source(), "host volume '" + v.name + "' needs a path");
	// A host mount's size and dax= mode are the kernel's, set where it is mounted.
	if (v.kind == fscore::VolumeKind::host && embedded_only)
		fail(file, embedded_only->source(),
		     "host volume '" + v.name +
		         "': size and dax are set by mkfs and the mount (-o dax=), not here");
	return v;
}

// A group a key names must exist: a typo would otherwise lock its members out unnoticed.
gid_t existing_group(const std::filesystem::path &file, const toml::node &node,
                     const std::string &key, const std::string &name)
{
	if (auto gid = group_id(name))
		return *gid;
	fail(file, node.source(),
	     key + ": there is no group '" + name +
	         "' on this system (make it with groupadd, or name another)");
}

// Runs `parse` (toml++'s, from a file or from text) with its errors as Error: "file:line:col:
// message", or "file: message" when there is no place (the file cannot be read).
template <class Parse> toml::table parse_toml(const std::filesystem::path &file, Parse parse)
{
	try {
		return parse();
	} catch (const toml::parse_error &e) {
		if (e.source().begin.line == 0)
			throw Error(Errc::invalid_argument,
			            file.string() + ": " + std::string(e.description()));
		fail(file, e.source(), std::string(e.description()));
	}
}

DaemonConfig config_of(const std::filesystem::path &file, const toml::table &doc)
{
	DaemonConfig c;
	std::set<std::string> names;
	for (const auto &[key, node] : doc) {
		std::string k(key.str());
		if (k == "volume") {
			const toml::array *arr = node.as_array();
			if (!arr)
				fail(file, node.source(), "volume: expected [[volume]] tables");
			for (const auto &item : *arr) {
				const toml::table *t = item.as_table();
				if (!t)
					fail(file, item.source(), "volume: expected a table");
				VolumeConfig v = volume_of(file, *t);
				if (!names.insert(v.name).second)
					fail(file, t->source(),
					     "volume '" + v.name + "' is defined twice");
				c.volumes.push_back(std::move(v));
			}
			continue;
		}
		if (k == "reconcile_rate") {
			auto n = node.value<int64_t>();
			if (!n || *n < 0 || *n > 1000000000)
				fail(file, node.source(),
				     "reconcile_rate: expected files a second, an integer from 0 "
				     "(no "
				     "limit) to 1000000000");
			c.reconcile_rate = static_cast<uint64_t>(*n);
			continue;
		}
		if (k == "max_connections") {
			auto n = node.value<int64_t>();
			if (!n || *n < 1 || *n > 65536)
				fail(file, node.source(),
				     "max_connections: expected an integer from 1 to 65536");
			c.max_connections = static_cast<unsigned>(*n);
			continue;
		}
		if (k == "event_max") {
			auto n = node.value<int64_t>();
			if (!n || *n < 0)
				fail(file, node.source(),
				     "event_max: expected an integer, 0 or more (0: no bound)");
			c.event_max = *n;
			continue;
		}
		std::string value = string_of(file, node, k);
		if (k == "state_dir") {
			c.state_dir = value;
		} else if (k == "socket") {
			c.socket = value;
		} else if (k == "socket_mode") {
			size_t used = 0;
			unsigned long mode = 0;
			try {
				mode = std::stoul(value, &used, 8);
			} catch (const std::exception &) {
				used = 0; // not a number at all: reported just below
			}
			if (used != value.size() || value.empty() || mode > 07777)
				fail(file, node.source(),
				     "socket_mode: \"" + value + "\" is not an octal mode");
			c.socket_mode = static_cast<unsigned>(mode);
		} else if (k == "admin_group") {
			c.admin_group = value;
			c.admin_gid = existing_group(file, node, k, value);
		} else if (k == "reader_group") {
			c.reader_group = value;
			c.reader_gid = existing_group(file, node, k, value);
		} else if (k == "policy_dir") {
			c.policy_dir = value;
		} else if (k == "unknown_volumes") {
			auto mode = unknown_volumes_from_name(value);
			if (!mode)
				fail(file, node.source(),
				     "unknown_volumes: expected \"error\" or \"ignore\", got \"" +
				         value + "\"");
			c.unknown_volumes = *mode;
		} else if (k == "lease_break_timeout") {
			auto d = parse_duration(value);
			if (!d)
				fail(file, node.source(),
				     "lease_break_timeout: \"" + value +
				         "\" is not a duration (45s, 500ms)");
			if (*d > fscore::kMaxLeaseBreakTimeout)
				fail(file, node.source(),
				     "lease_break_timeout: \"" + value + "\" is longer than 24h");
			c.lease_break_timeout = *d;
		} else if (k == "pending_recheck") {
			auto d = parse_duration(value);
			if (!d || *d < std::chrono::seconds(1) || *d > std::chrono::hours(24))
				fail(file, node.source(),
				     "pending_recheck: \"" + value +
				         "\" is not a duration from 1s to 24h (30s, 5m)");
			c.pending_recheck = *d;
		} else if (k == "metrics_listen") {
			if (!parse_listen_address(value))
				fail(file, node.source(),
				     "metrics_listen: \"" + value +
				         "\" is not ADDRESS:PORT (127.0.0.1:9478, [::1]:9478)");
			c.metrics_listen = value;
		} else if (k == "metrics_textfile") {
			if (value.empty() || value.front() != '/' || value.back() == '/')
				fail(file, node.source(),
				     "metrics_textfile: expected an absolute file name, got \"" +
				         value + "\"");
			c.metrics_textfile = value;
		} else if (k == "event_retention") {
			auto d = parse_duration(value);
			if (!d)
				fail(file, node.source(),
				     "event_retention: \"" + value +
				         "\" is not a duration (30d, 12h; 0: kept whatever their "
				         "age)");
			c.event_retention = *d;
		} else {
			fail(file, node.source(), "unknown key \"" + k + "\"");
		}
	}
	return c;
}

} // namespace

std::optional<std::pair<std::string, uint16_t>> parse_listen_address(std::string_view text)
{
	auto colon = text.rfind(':');
	if (colon == std::string_view::npos || colon == 0)
		return std::nullopt;
	std::string host(text.substr(0, colon));
	if (host.front() == '[' && host.back() == ']')
		host = host.substr(1, host.size() - 2);
	std::string port(text.substr(colon + 1));
	if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char ch) {
		    return std::isdigit(static_cast<unsigned char>(ch));
	    }))
		return std::nullopt;
	unsigned long n = std::stoul(port);
	// A numeric address, as the metrics server binds it; an IPv6 one may name its scope
	// ("fe80::1%eth0"), which the address itself does not hold.
	in6_addr any{};
	bool numeric = inet_pton(AF_INET, host.c_str(), &any) == 1 ||
	               inet_pton(AF_INET6, host.substr(0, host.find('%')).c_str(), &any) == 1;
	if (!numeric || n == 0 || n > 65535)
		return std::nullopt;
	return std::pair(host, static_cast<uint16_t>(n));
}

DaemonConfig load_daemon_config(const std::filesystem::path &file)
{
	return config_of(file, parse_toml(file, [&] { return toml::parse_file(file.string()); }));
}

DaemonConfig parse_daemon_config(std::string_view text, const std::filesystem::path &file)
{
	return config_of(file, parse_toml(file, [&] { return toml::parse(text, file.string()); }));
}

void finish_daemon_config(DaemonConfig &c)
{
	if (c.volumes.empty())
		c.volumes.push_back({"pool0",
		                     fscore::VolumeKind::embedded,
		                     {},
		                     uint64_t{1} << 30,
		                     fscore::DaxMode::inode});
	// The embedded default makes its pool on first start; a configured volume only where
	// its config gives a size.
	for (auto &v : c.volumes)
		if (v.kind == fscore::VolumeKind::embedded && v.path.empty())
			v.path = c.state_dir / (v.name + ".pool");
	// The default admin group is the package's; a machine without it has root alone.
	if (!c.admin_gid)
		c.admin_gid = group_id(c.admin_group);
}

std::optional<gid_t> socket_gid(const DaemonConfig &c)
{
	return c.reader_gid ? c.reader_gid : c.admin_gid;
}

std::set<std::string> volume_names(const DaemonConfig &config)
{
	std::set<std::string> names;
	for (const auto &v : config.volumes)
		names.insert(v.name);
	return names;
}

} // namespace daxpolicy::policy
