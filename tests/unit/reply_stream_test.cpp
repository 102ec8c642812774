// SPDX-License-Identifier: BSD-3-Clause
// Lists as the daemon sends them (daemon/reply_stream.hpp): in parts of about
// wire::kListPart under "more", each made only when asked for, the last without "continues";
// in one reply without "more", refused past a message's bound; and a source with nothing
// ready yet lets the caller go and wakes it later.
#include "common/error.hpp"
#include "daemon/reply_stream.hpp"

#include <gtest/gtest.h>

using namespace daxpolicy;
using namespace daxpolicy::daemon;
using nlohmann::json;

namespace
{

// `n` items of about `bytes` each; with `pause_at`, says `later` once there, until resumed.
class CountingSource : public ItemSource
{
      public:
	CountingSource(size_t n, size_t bytes, size_t *made, size_t pause_at = SIZE_MAX)
	    : n_(n), bytes_(bytes), made_(made), pause_at_(pause_at)
	{
	}
	Pull next(json &item) override
	{
		if (*made_ == pause_at_ && !resumed_)
			return Pull::later;
		if (*made_ == n_)
			return Pull::end;
		item = {{"n", *made_}, {"pad", std::string(bytes_, 'p')}};
		(*made_)++;
		return Pull::item;
	}
	void resume()
	{
		resumed_ = true;
		wake();
	}

      private:
	size_t n_, bytes_;
	size_t *made_;
	size_t pause_at_;
	bool resumed_ = false;
};

json parse(const std::string &framed)
{
	EXPECT_EQ(framed.back(), '\0');
	return json::parse(framed.substr(0, framed.size() - 1));
}

TEST(ReplyStream, PartsAreBoundedAndMadeOnlyWhenAskedFor)
{
	size_t made = 0;
	ReplyStream stream("events", std::make_unique<CountingSource>(10000, 200, &made), true);
	EXPECT_EQ(made, 0u) << "nothing is made before the first part is asked for";
	size_t seen = 0, parts = 0;
	while (!stream.done()) {
		auto reply = stream.next();
		ASSERT_TRUE(reply);
		EXPECT_LE(reply->size(), wire::kListPart + 512);
		EXPECT_EQ(made, seen + parse(*reply)["parameters"]["events"].size())
		    << "more made than the part holds";
		json j = parse(*reply);
		for (const auto &item : j["parameters"]["events"])
			EXPECT_EQ(item["n"], seen++);
		EXPECT_EQ(j.value("continues", false), !stream.done());
		parts++;
	}
	EXPECT_EQ(seen, 10000u);
	EXPECT_GT(parts, 5u);
}

TEST(ReplyStream, WithoutMoreTheListIsOneReplyBoundedAsAMessage)
{
	size_t made = 0;
	ReplyStream small("rules", std::make_unique<CountingSource>(3000, 200, &made), false);
	auto reply = small.next();
	ASSERT_TRUE(reply);
	EXPECT_TRUE(small.done());
	json j = parse(*reply);
	EXPECT_EQ(j["parameters"]["rules"].size(), 3000u);
	EXPECT_FALSE(j.contains("continues"));

	made = 0;
	ReplyStream large("files", std::make_unique<CountingSource>(200000, 200, &made), false);
	try {
		large.next();
		ADD_FAILURE() << "a reply of 40 MiB was made";
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), Errc::invalid_argument);
		EXPECT_NE(std::string(e.what()).find("16 MiB"), std::string::npos) << e.what();
	}
	EXPECT_LT(made, 100000u) << "it gave up once past the bound, not at the end";
}

TEST(ReplyStream, ASourceWithNothingReadyWakesItsCallerLater)
{
	size_t made = 0;
	auto source = std::make_unique<CountingSource>(10, 10, &made, 4);
	CountingSource *raw = source.get();
	ReplyStream stream("pending", std::move(source), true);
	int woken = 0;
	stream.on_ready([&] { woken++; });
	EXPECT_FALSE(stream.next()) << "a part before the source had it";
	EXPECT_FALSE(stream.done());
	raw->resume();
	EXPECT_EQ(woken, 1);
	auto reply = stream.next();
	ASSERT_TRUE(reply);
	EXPECT_TRUE(stream.done());
	EXPECT_EQ(parse(*reply)["parameters"]["pending"].size(), 10u);
}

TEST(PagedSource, EmptyStepsLetTheLoopTurnAndTheEndEnds)
{
	// Pages: [a, b], [] (a step that found nothing), [c] and the end.
	int step = 0;
	PagedSource source([&step](std::deque<json> &page) {
		switch (step++) {
		case 0:
			page = {"a", "b"};
			return true;
		case 1:
			return true;
		default:
			page = {"c"};
			return false;
		}
	});
	int woken = 0;
	source.on_ready([&] { woken++; });
	json item;
	std::string got;
	for (;;) {
		auto pull = source.next(item);
		if (pull == ItemSource::Pull::end)
			break;
		if (pull == ItemSource::Pull::item)
			got += item.get<std::string>();
		else
			got += "|";
	}
	EXPECT_EQ(got, "ab|c");
	EXPECT_EQ(woken, 1);
	EXPECT_EQ(source.next(item), ItemSource::Pull::end);
	EXPECT_EQ(step, 3) << "asked again after the end";
}

} // namespace
