// SPDX-License-Identifier: BSD-3-Clause
// A list reply made as the peer takes it. A method that answers with a list hands its
// connection a ReplyStream over an ItemSource; the connection pulls the next reply from it
// only while what it has queued for the peer is under Connection::kMaxBacklog, so a list of
// any length holds the daemon to about that much, one part (wire::kListPart) and the
// source's own page, however slowly the peer reads.
#pragma once

#include "wire/varlink.hpp"

#include <deque>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace daxpolicy::daemon
{

// Where a list's items come from, one at a time, on the event loop.
class ItemSource
{
      public:
	enum class Pull {
		item,  // `item` holds the next one
		later, // none is ready yet: the source calls its wake function once one is
		end,   // the list is over
	};
	virtual ~ItemSource() = default;
	// Throws Error: the call fails there (the parts already sent stand).
	virtual Pull next(nlohmann::json &item) = 0;
	// The function to call (from any thread) when a source that said `later` has more.
	void on_ready(std::function<void()> wake) { wake_ = std::move(wake); }

      protected:
	void wake() const
	{
		if (wake_)
			wake_();
	}

      private:
	std::function<void()> wake_;
};

// A source read a page at a time from the store, by key: `fetch` appends the next page to
// its queue and returns false once nothing follows. A page may be empty (a bounded step
// that found nothing): the source then lets the loop turn before the next step.
class PagedSource : public ItemSource
{
      public:
	using Fetch = std::function<bool(std::deque<nlohmann::json> &page)>;
	explicit PagedSource(Fetch fetch) : fetch_(std::move(fetch)) {}
	Pull next(nlohmann::json &item) override;

      private:
	Fetch fetch_;
	std::deque<nlohmann::json> page_;
	bool more_ = true;
};

class ReplyStream
{
      public:
	// `key`: the reply's array (wire::MethodSpec::list). `more`: the caller asked for
	// parts of about wire::kListPart; without, the list goes in one reply, which fails
	// with wire::oversized_reply() past wire::kMaxMessage.
	ReplyStream(const char *key, std::unique_ptr<ItemSource> source, bool more);
	// An object with a list in it (apply's summary and its `changes`): `fields` go in the
	// first reply, beside the first part of the list.
	ReplyStream(const char *key, const nlohmann::json &fields,
	            std::unique_ptr<ItemSource> source, bool more);
	void on_ready(std::function<void()> wake) { source_->on_ready(std::move(wake)); }
	// The next reply, framed, once it is whole; nothing while the source has no item
	// ready (it wakes the caller). Throws what the source throws.
	std::optional<std::string> next();
	// The last reply was returned.
	bool done() const { return done_; }

      private:
	std::unique_ptr<ItemSource> source_;
	bool more_;
	wire::ListReply part_;
	bool done_ = false;
};

} // namespace daxpolicy::daemon
