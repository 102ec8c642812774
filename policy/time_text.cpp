// SPDX-License-Identifier: BSD-3-Clause
#include "policy/time_text.hpp"

#include "common/units.hpp"

#include <cstdio>
#include <ctime>
#include <toml++/toml.h>

namespace daxpolicy::policy
{

std::string rfc3339_from_ms(int64_t unix_ms)
{
	std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
	std::tm tm{};
	gmtime_r(&secs, &tm);
	char buf[32];
	std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	char out[40];
	std::snprintf(out, sizeof(out), "%s.%03dZ", buf, static_cast<int>(unix_ms % 1000));
	return out;
}

std::optional<int64_t> parse_rfc3339(const std::string &text)
{
	// TOML's date-times are RFC 3339's: let toml++ read it rather than a parser of our own.
	if (text.find_first_of("\n\r#=\"'[") != std::string::npos)
		return std::nullopt;
	toml::table doc;
	try {
		doc = toml::parse("t = " + text);
	} catch (const toml::parse_error &) {
		return std::nullopt;
	}
	if (doc.size() != 1)
		return std::nullopt;
	const toml::node *node = doc.get("t");
	toml::date date;
	toml::time time{};
	int64_t offset_min = 0; // a date-time without an offset is taken as UTC
	if (auto dt = node->value<toml::date_time>()) {
		date = dt->date;
		time = dt->time;
		if (dt->offset)
			offset_min = dt->offset->minutes;
	} else if (auto d = node->value<toml::date>()) {
		date = *d;
	} else {
		return std::nullopt;
	}
	std::tm tm{};
	tm.tm_year = date.year - 1900;
	tm.tm_mon = date.month - 1;
	tm.tm_mday = date.day;
	tm.tm_hour = time.hour;
	tm.tm_min = time.minute;
	tm.tm_sec = time.second;
	int64_t secs = timegm(&tm) - offset_min * 60;
	return secs * 1000 + time.nanosecond / 1000000;
}

std::optional<int64_t> parse_time_arg(const std::string &text, int64_t now_ms)
{
	if (text == "now")
		return now_ms;
	if (text.size() < 2 || text[0] != '-')
		return parse_rfc3339(text);
	auto ago = parse_duration(text.substr(1));
	// A bare number is seconds to parse_duration; as a time ago it is too easily a typo.
	if (!ago || text.find_first_not_of("0123456789", 1) == std::string::npos ||
	    ago->count() > now_ms)
		return std::nullopt;
	return now_ms - ago->count();
}

} // namespace daxpolicy::policy
