#include "fscore/units.hpp"

#include <cctype>

namespace daxpolicy::fscore
{

std::optional<uint64_t> parse_size(const std::string &text)
{
	size_t pos = 0;
	while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])))
		pos++;
	if (pos == 0 || pos > 19)
		return std::nullopt;
	uint64_t n = std::stoull(text.substr(0, pos));
	std::string unit = text.substr(pos);
	for (auto &c : unit)
		c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
	int shift;
	if (unit.empty() || unit == "b")
		shift = 0;
	else if (unit == "k" || unit == "kib" || unit == "kb")
		shift = 10;
	else if (unit == "m" || unit == "mib" || unit == "mb")
		shift = 20;
	else if (unit == "g" || unit == "gib" || unit == "gb")
		shift = 30;
	else if (unit == "t" || unit == "tib" || unit == "tb")
		shift = 40;
	else
		return std::nullopt;
	if (shift && n > (UINT64_MAX >> shift))
		return std::nullopt;
	return n << shift;
}

} // namespace daxpolicy::fscore
