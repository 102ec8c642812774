// SPDX-License-Identifier: BSD-3-Clause
#include "daemon/reply_stream.hpp"

namespace daxpolicy::daemon
{

using nlohmann::json;

ItemSource::Pull PagedSource::next(json &item)
{
	if (page_.empty() && more_) {
		more_ = fetch_(page_);
		if (page_.empty() && more_) {
			wake(); // a step that found nothing: the next one on a later turn
			return Pull::later;
		}
	}
	if (page_.empty())
		return Pull::end;
	item = std::move(page_.front());
	page_.pop_front();
	return Pull::item;
}

ReplyStream::ReplyStream(const char *key, std::unique_ptr<ItemSource> source, bool more)
    : source_(std::move(source)), more_(more), part_(key)
{
}

ReplyStream::ReplyStream(const char *key, const json &fields, std::unique_ptr<ItemSource> source,
                         bool more)
    : ReplyStream(key, std::move(source), more)
{
	part_.add_fields(fields);
}

std::optional<std::string> ReplyStream::next()
{
	json item;
	for (;;) {
		switch (source_->next(item)) {
		case ItemSource::Pull::item:
			part_.add(item);
			if (!more_ && part_.bytes() > wire::kMaxMessage)
				throw wire::oversized_reply();
			if (more_ && part_.bytes() >= wire::kListPart)
				return part_.take(true);
			break;
		case ItemSource::Pull::later:
			return std::nullopt;
		case ItemSource::Pull::end:
			done_ = true;
			return part_.take(false);
		}
	}
}

} // namespace daxpolicy::daemon
