// What fscore/volume.hpp promises, checked on every Volume: the policy engine relies on each
// of these, whatever the volume under it.
#include "common/error.hpp"
#include "tests/support/error_code.hpp"
#include "tests/support/fake_volume.hpp"
#include "tests/support/pool_test.hpp"

#include <algorithm>
#include <chrono>
#include <future>
#include <gtest/gtest.h>
#include <mutex>
#include <set>
#include <thread>

using namespace daxpolicy;
using namespace daxpolicy::fscore;

namespace
{

// How each kind of volume is made for a test, and how files appear in it.
struct FakeKind {
	Volume &volume() { return vol; }
	void create(const std::string &path) { vol.create(path); }
	test::FakeVolume vol;
};

struct EmbeddedKind {
	EmbeddedKind()
	{
		mkfs(pool, 64ull << 20);
		vol = EmbeddedVolume::mount(pool, {});
	}
	Volume &volume() { return *vol; }
	void create(const std::string &path) { vol->create(path); }
	test::TempDir dir;
	std::filesystem::path pool = dir / "pool0.pool";
	std::unique_ptr<EmbeddedVolume> vol;
};

template <typename Kind> class VolumeContract : public ::testing::Test
{
      protected:
	Volume &vol() { return kind_.volume(); }
	void create(const std::string &path) { kind_.create(path); }
	Kind kind_;
};

using Kinds = ::testing::Types<FakeKind, EmbeddedKind>;
TYPED_TEST_SUITE(VolumeContract, Kinds);

std::string parent_of(const std::string &path)
{
	auto slash = path.rfind('/');
	return slash == 0 ? "/" : path.substr(0, slash);
}

TYPED_TEST(VolumeContract, WalkVisitsEachFileOnceAndParentsBeforeChildren)
{
	// Names that sort between a directory and its children ("a-b" < "a/b") included.
	for (const char *d : {"/a", "/a/b", "/a/b/c", "/a-b", "/z"})
		this->vol().mkdir(d);
	for (const char *f : {"/a/b/c/f", "/a/b-x", "/a-b/g", "/a/b/h", "/top"})
		this->create(f);

	std::vector<std::string> order;
	this->vol().walk("/", [&](const FileInfo &fi) { order.push_back(fi.path); });
	std::set<std::string> seen;
	for (const auto &path : order) {
		EXPECT_TRUE(seen.insert(path).second) << path << " visited twice";
		if (path != "/") {
			EXPECT_TRUE(seen.count(parent_of(path))) << path << " before its directory";
		}
	}
	EXPECT_EQ(seen, (std::set<std::string>{"/", "/a", "/a/b", "/a/b/c", "/a-b", "/z",
	                                       "/a/b/c/f", "/a/b-x", "/a-b/g", "/a/b/h", "/top"}));

	std::vector<std::string> below;
	this->vol().walk("/a/b", [&](const FileInfo &fi) { below.push_back(fi.path); });
	ASSERT_FALSE(below.empty());
	EXPECT_EQ(below.front(), "/a/b") << "the walk starts where it was asked to";
	EXPECT_EQ(std::set<std::string>(below.begin(), below.end()),
	          (std::set<std::string>{"/a/b", "/a/b/c", "/a/b/c/f", "/a/b/h"}))
	    << "a sibling whose name starts the same (/a/b-x) is not below /a/b";
}

TYPED_TEST(VolumeContract, FlagIsInheritedWhenAFileIsMadeAndOnlyThen)
{
	this->vol().mkdir("/d");
	this->vol().set_dax_flag("/d", true);
	this->create("/d/early");
	this->vol().mkdir("/d/sub");
	EXPECT_TRUE(this->vol().stat("/d/early").dax_flag);
	EXPECT_TRUE(this->vol().stat("/d/sub").dax_flag);

	this->vol().set_dax_flag("/d", false);
	EXPECT_TRUE(this->vol().stat("/d/early").dax_flag)
	    << "clearing a directory's flag leaves what is in it";
	this->create("/d/late");
	EXPECT_FALSE(this->vol().stat("/d/late").dax_flag);
}

TYPED_TEST(VolumeContract, FileIsFoundByIdentityWhereverItWasMoved)
{
	this->vol().mkdir("/a");
	this->vol().mkdir("/b");
	this->create("/a/f");
	FileInfo f = this->vol().stat("/a/f");
	EXPECT_EQ(this->vol().path_of(f.ino, f.generation), std::optional<std::string>("/a/f"));

	this->vol().rename("/a/f", "/b/g");
	EXPECT_EQ(this->vol().path_of(f.ino, f.generation), std::optional<std::string>("/b/g"));
	this->vol().rename("/b", "/c");
	EXPECT_EQ(this->vol().path_of(f.ino, f.generation), std::optional<std::string>("/c/g"))
	    << "moved with its directory";

	// The change goes to the file, not to whatever has its old name now.
	this->create("/a/f");
	auto r = this->vol().set_dax_flag_if_unmapped(f.ino, f.generation, true);
	EXPECT_EQ(r.status, SetFlagResult::Status::applied);
	EXPECT_TRUE(this->vol().stat("/c/g").dax_flag);
	EXPECT_FALSE(this->vol().stat("/a/f").dax_flag);
	EXPECT_EQ(this->vol().set_dax_flag_if_unmapped(f.ino, f.generation, true).status,
	          SetFlagResult::Status::unchanged);

	this->vol().remove("/c/g");
	EXPECT_EQ(this->vol().path_of(f.ino, f.generation), std::nullopt);
	EXPECT_EQ(this->vol().set_dax_flag_if_unmapped(f.ino, f.generation, false).status,
	          SetFlagResult::Status::gone);
}

TYPED_TEST(VolumeContract, ListenersHearOfAChangeAfterItAndMayCallBackIn)
{
	Volume &vol = this->vol();
	std::mutex mutex;
	std::vector<std::string> heard; // what the listener saw of the volume, per event
	auto sub = vol.subscribe([&](const VolumeEvent &e) {
		if (e.kind != VolumeEvent::Kind::created && e.kind != VolumeEvent::Kind::renamed)
			return;
		// From another thread, so that a lock still held shows as a wait that does
		// not end rather than as undefined behaviour on this one. (That thread is left
		// behind, blocked, if it comes to that: the test has failed by then.)
		auto answer = std::make_shared<std::promise<std::string>>();
		auto answered = answer->get_future();
		std::thread([&vol, e, answer] {
			auto where = vol.path_of(e.ino, e.generation);
			answer->set_value(where ? *where : std::string("(gone)"));
		}).detach();
		bool ready =
		    answered.wait_for(std::chrono::seconds(30)) == std::future_status::ready;
		std::lock_guard lock(mutex);
		heard.push_back(ready ? answered.get() : "(the volume stayed locked)");
	});
	vol.mkdir("/d");
	this->create("/d/f");
	vol.rename("/d/f", "/d/g");
	std::lock_guard lock(mutex);
	EXPECT_EQ(heard, (std::vector<std::string>{"/d", "/d/f", "/d/g"}))
	    << "each listener runs once the change is visible, with no lock of the volume held";
}

TYPED_TEST(VolumeContract, MissingFilesAreNotFound)
{
	EXPECT_EQ(test::error_code_of([&] { this->vol().stat("/nope"); }), Errc::not_found);
	EXPECT_EQ(test::error_code_of([&] { this->vol().walk("/nope", [](const FileInfo &) {}); }),
	          Errc::not_found);
	EXPECT_EQ(test::error_code_of([&] { this->vol().set_dax_flag("/nope", true); }),
	          Errc::not_found);
}

} // namespace
