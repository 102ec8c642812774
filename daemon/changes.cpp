// SPDX-License-Identifier: BSD-3-Clause
#include "daemon/changes.hpp"

#include "wire/interface.hpp"

namespace daxpolicy::daemon
{

namespace
{

// Each change made JSON as its turn comes, and freed once sent.
class ChangeSource : public ItemSource
{
      public:
	explicit ChangeSource(std::vector<policy::FileChange> changes)
	    : changes_(std::move(changes))
	{
	}
	Pull next(nlohmann::json &item) override
	{
		if (next_ == changes_.size()) {
			std::vector<policy::FileChange>().swap(changes_);
			return Pull::end;
		}
		item = policy::change_json(changes_[next_++]);
		return Pull::item;
	}

      private:
	std::vector<policy::FileChange> changes_;
	size_t next_ = 0;
};

} // namespace

std::unique_ptr<ReplyStream> changes_reply(const nlohmann::json &fields,
                                           std::vector<policy::FileChange> changes, bool more)
{
	return std::make_unique<ReplyStream>(
	    wire::reply::changes, fields, std::make_unique<ChangeSource>(std::move(changes)), more);
}

} // namespace daxpolicy::daemon
