// SPDX-License-Identifier: BSD-3-Clause
#include "daemon/views.hpp"

#include "common/error.hpp"

namespace daxpolicy::daemon
{

std::pair<std::string, std::string> split_file_name(const std::string &name)
{
	size_t colon = name.find(':');
	// "VOLUME:" alone is the volume's root.
	if (colon != std::string::npos && colon > 0 && colon + 1 == name.size())
		return {name.substr(0, colon), "/"};
	if (colon == std::string::npos || colon == 0 || colon + 1 >= name.size() ||
	    name[colon + 1] != '/')
		throw Error(Errc::invalid_argument,
		            "'" + name + "': name a file as VOLUME:/path (for example pool0:/db)");
	auto normal = policy::normalize_volume_path(name.substr(colon + 1));
	if (!normal)
		throw Error(Errc::invalid_argument,
		            "'" + name + "': the path must not contain '..'");
	return {name.substr(0, colon), *normal};
}

std::string file_name(const std::string &volume, const std::string &path)
{
	return volume + ":" + path;
}

nlohmann::json file_json(const policy::FileView &v)
{
	const fscore::FileInfo &f = v.file;
	nlohmann::json j = {
	    {"path", file_name(v.volume, f.path)},
	    {"volume", v.volume},
	    {"ino", f.ino},
	    {"type", fscore::file_type_name(f.type)},
	    {"size", f.size},
	    {"dax_flag", f.dax_flag},
	    {"dax_effective", f.dax_effective},
	    {"dax_desired", v.desired ? nlohmann::json(*v.desired) : nlohmann::json(nullptr)},
	    {"rule", v.rule ? nlohmann::json(*v.rule) : nlohmann::json(nullptr)},
	    {"state", policy::file_state_name(v.state)},
	    {"mapped", f.mapped},
	    {"in_use", f.in_use},
	};
	if (!f.unsupported.empty())
		j["reason"] = f.unsupported;
	return j;
}

nlohmann::json volume_json(const fscore::VolumeInfo &i)
{
	nlohmann::json j = {{"name", i.name},
	                    {"kind", i.kind},
	                    {"path", i.path},
	                    {"fstype", i.fstype},
	                    {"dax_mode", fscore::dax_mode_name(i.dax_mode)},
	                    {"dax_capable", i.dax_capable},
	                    {"granularity", i.granularity},
	                    {"files", i.files}};
	if (i.usage) {
		j["size_bytes"] = i.usage->size_bytes;
		j["used_bytes"] = i.usage->used_bytes;
		j["inodes"] = i.usage->inodes;
		j["inodes_used"] = i.usage->inodes_used;
	}
	if (!i.flag_interface.empty())
		j["flag_interface"] = i.flag_interface;
	return j;
}

nlohmann::json rule_json(const policy::Rule &r)
{
	return {{"name", r.name},
	        {"volume", r.volume},
	        {"subtree", r.subtree},
	        {"dax", r.dax ? "on" : "off"},
	        {"include", r.include},
	        {"exclude", r.exclude},
	        {"priority", r.priority},
	        {"origin", r.managed() ? "managed" : "local"},
	        {"source", r.managed() ? nlohmann::json(r.source) : nlohmann::json(nullptr)}};
}

nlohmann::json pending_json(const policy::PendingChange &p)
{
	return {{"path", file_name(p.volume, p.path)},
	        {"volume", p.volume},
	        {"ino", p.ino},
	        {"want", p.want},
	        {"rule", p.rule ? nlohmann::json(*p.rule) : nlohmann::json(nullptr)},
	        {"since", policy::rfc3339_from_ms(p.since_ms)},
	        {"why", p.reason}};
}

nlohmann::json reconcile_json(const policy::Engine &engine)
{
	auto job = engine.current_job();
	if (!job)
		return {{"state", "idle"},    {"done", 0},      {"total", nullptr},
		        {"started", nullptr}, {"job", nullptr}, {"queued", 0}};
	nlohmann::json j = job->to_json();
	j["job"] = job->id;
	j["state"] = "running"; // its first step may be still to come
	j["queued"] = engine.jobs_waiting();
	j.erase("id");
	j.erase("finished");
	return j;
}

} // namespace daxpolicy::daemon
