// SPDX-License-Identifier: BSD-3-Clause
// What fscore/volume.hpp promises, checked on every Volume: the policy engine relies on each
// of these, whatever the volume under it.
#include "common/error.hpp"
#include "fscore/host/host_volume.hpp"
#include "fscore/session.hpp"
#include "tests/support/error_code.hpp"
#include "tests/support/event_log.hpp"
#include "tests/support/fake_volume.hpp"
#include "tests/support/loop_mount.hpp"
#include "tests/support/pool_test.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <future>
#include <gtest/gtest.h>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

using namespace daxpolicy;
using namespace daxpolicy::fscore;

namespace
{

// How each kind of volume is made for a test, what a fresh one holds, how files appear and
// move in it, and whether its listeners hear of a change before the change returns
// (synchronous_events) or some time after, from a thread of its own: then a test waits for
// the event, boundedly, before it relies on what the event tells the volume (path_of after
// a rename).
struct FakeKind {
	static constexpr const char *kName = "fake";
	static constexpr bool synchronous_events = true;
	std::optional<std::string> set_up() { return std::nullopt; }
	std::set<std::string> fresh() const { return {"/"}; }
	Volume &volume() { return vol; }
	void create(const std::string &path) { vol.create(path); }
	void mkdir(const std::string &path) { vol.mkdir(path); }
	void rename(const std::string &from, const std::string &to) { vol.rename(from, to); }
	void remove(const std::string &path) { vol.remove(path); }
	test::FakeVolume vol;
};

struct EmbeddedKind {
	static constexpr const char *kName = "embedded";
	static constexpr bool synchronous_events = true;
	std::optional<std::string> set_up()
	{
		mkfs(pool, 64ull << 20);
		vol = EmbeddedVolume::mount(pool, {});
		return std::nullopt;
	}
	std::set<std::string> fresh() const { return {"/"}; }
	Volume &volume() { return *vol; }
	void create(const std::string &path) { vol->create(path); }
	void mkdir(const std::string &path) { vol->mkdir(path); }
	void rename(const std::string &from, const std::string &to) { vol->rename(from, to); }
	void remove(const std::string &path) { vol->remove(path); }
	test::TempDir dir;
	std::filesystem::path pool = dir / "pool0.pool";
	std::unique_ptr<EmbeddedVolume> vol;
};

// A loop-mounted ext4 or xfs image. A host volume has no namespace calls (io_sessions is
// false): files are made, moved and removed through the host's filesystem, as its users
// do, and the volume hears of them through fanotify.
struct HostKind {
	static constexpr bool synchronous_events = false;
	explicit HostKind(std::string fs) : fstype(std::move(fs)) {}
	std::optional<std::string> set_up()
	{
		if (auto why = test::cannot_mount(test::LoopFs::tools_for(fstype)))
			return why;
		fs = test::LoopFs::standard(dir.path(), fstype);
		vol = HostVolume::open({.name = "host0", .path = fs->mount_point()});
		if (!vol->info().can.use_events)
			return "needs fanotify events: " + vol->events_unavailable();
		return std::nullopt;
	}
	// What mkfs leaves: ext4 has its lost+found.
	std::set<std::string> fresh() const
	{
		if (fstype == "ext4")
			return {"/", "/lost+found"};
		return {"/"};
	}
	Volume &volume() { return *vol; }
	void create(const std::string &path) { std::ofstream(fs->host(path)).close(); }
	void mkdir(const std::string &path) { std::filesystem::create_directory(fs->host(path)); }
	void rename(const std::string &from, const std::string &to)
	{
		std::filesystem::rename(fs->host(from), fs->host(to));
	}
	void remove(const std::string &path) { std::filesystem::remove(fs->host(path)); }
	std::string fstype;
	test::TempDir dir;
	std::unique_ptr<test::LoopFs> fs; // after dir: unmounted before the folder goes
	std::unique_ptr<HostVolume> vol;  // after fs: closed before the unmount
};

struct HostExt4Kind : HostKind {
	static constexpr const char *kName = "host_ext4";
	HostExt4Kind() : HostKind("ext4") {}
};

struct HostXfsKind : HostKind {
	static constexpr const char *kName = "host_xfs";
	HostXfsKind() : HostKind("xfs") {}
};

template <typename Kind> class VolumeContract : public ::testing::Test
{
      protected:
	void SetUp() override
	{
		if (auto why = kind_.set_up())
			GTEST_SKIP() << *why;
		log_.emplace(vol());
	}
	Volume &vol() { return kind_.volume(); }
	void create(const std::string &path) { kind_.create(path); }
	void mkdir(const std::string &path) { kind_.mkdir(path); }
	void rename(const std::string &from, const std::string &to) { kind_.rename(from, to); }
	void remove(const std::string &path) { kind_.remove(path); }

	// How long a test waits for an event the volume owes it: not at all where listeners
	// hear of a change before it returns.
	static std::chrono::milliseconds patience()
	{
		return Kind::synchronous_events ? std::chrono::milliseconds(0)
		                                : test::EventLog::kPatience;
	}
	// The event of `kind` for `path` that `change` caused.
	template <class Change>
	std::optional<VolumeEvent> heard(VolumeEvent::Kind kind, const std::string &path,
	                                 Change change)
	{
		size_t from = log_->mark();
		change();
		return log_->wait_for(test::EventLog::is(kind, path), from, patience());
	}

	Kind kind_;
	std::optional<test::EventLog> log_;
};

struct KindNames {
	template <typename Kind> static std::string GetName(int) { return Kind::kName; }
};

using Kinds = ::testing::Types<FakeKind, EmbeddedKind, HostExt4Kind, HostXfsKind>;
TYPED_TEST_SUITE(VolumeContract, Kinds, KindNames);

std::string parent_of(const std::string &path)
{
	auto slash = path.rfind('/');
	return slash == 0 ? "/" : path.substr(0, slash);
}

TYPED_TEST(VolumeContract, WalkVisitsEachFileOnceAndParentsBeforeChildren)
{
	// Names that sort between a directory and its children ("a-b" < "a/b") included.
	for (const char *d : {"/a", "/a/b", "/a/b/c", "/a-b", "/z"})
		this->mkdir(d);
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
	std::set<std::string> want = this->kind_.fresh();
	want.insert({"/a", "/a/b", "/a/b/c", "/a-b", "/z", "/a/b/c/f", "/a/b-x", "/a-b/g", "/a/b/h",
	             "/top"});
	EXPECT_EQ(seen, want);

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
	this->mkdir("/d");
	this->vol().set_dax_flag("/d", true);
	this->create("/d/early");
	this->mkdir("/d/sub");
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
	using Kind = VolumeEvent::Kind;
	this->mkdir("/a");
	this->mkdir("/b");
	this->create("/a/f");
	FileInfo f = this->vol().stat("/a/f");
	EXPECT_EQ(this->vol().path_of(f.ino, f.generation), std::optional<std::string>("/a/f"));

	// Once the volume has told of the move, it knows where the file went.
	ASSERT_TRUE(this->heard(Kind::renamed, "/b/g", [&] { this->rename("/a/f", "/b/g"); }));
	EXPECT_EQ(this->vol().path_of(f.ino, f.generation), std::optional<std::string>("/b/g"));
	ASSERT_TRUE(this->heard(Kind::renamed, "/c", [&] { this->rename("/b", "/c"); }));
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

	auto removed = this->heard(Kind::removed, "/c/g", [&] { this->remove("/c/g"); });
	ASSERT_TRUE(removed);
	EXPECT_EQ(removed->ino, f.ino);
	EXPECT_EQ(removed->generation, f.generation);
	EXPECT_EQ(this->vol().path_of(f.ino, f.generation), std::nullopt);
	EXPECT_EQ(this->vol().set_dax_flag_if_unmapped(f.ino, f.generation, false).status,
	          SetFlagResult::Status::gone);
}

// A batch does what one call a change would, in order: results in the order asked, a file
// named twice changed by the first and found so by the second, a file gone since reported
// gone, and (where the volume has sessions) a mapped file left alone.
TYPED_TEST(VolumeContract, ABatchOfFlagChangesActsAsOneCallEachInOrder)
{
	using Status = SetFlagResult::Status;
	this->mkdir("/d");
	for (const char *name : {"/d/a", "/d/b", "/d/c", "/d/moved", "/d/open", "/d/mapped"})
		this->create(name);
	this->vol().set_dax_flag("/d/b", true);
	auto id = [&](const std::string &path) {
		FileInfo fi = this->vol().stat(path);
		return std::pair(fi.ino, fi.generation);
	};
	auto [a, a_gen] = id("/d/a");
	auto [b, b_gen] = id("/d/b");
	auto [c, c_gen] = id("/d/c");
	auto [m, m_gen] = id("/d/moved");
	ASSERT_TRUE(this->heard(VolumeEvent::Kind::removed, "/d/c", [&] { this->remove("/d/c"); }));
	ASSERT_TRUE(this->heard(VolumeEvent::Kind::renamed, "/moved",
	                        [&] { this->rename("/d/moved", "/moved"); }));
	std::vector<FlagChange> changes{{a, a_gen, true}, {b, b_gen, true}, {c, c_gen, true},
	                                {a, a_gen, true}, {m, m_gen, true}, {b, b_gen, false}};
	std::vector<Status> want{Status::applied,   Status::unchanged, Status::gone,
	                         Status::unchanged, Status::applied,   Status::applied};
	std::unique_ptr<Session> session;
	if (this->vol().info().can.io_sessions) {
		// In use: the embedded core changes these one at a time, under their ilock.
		session = this->vol().open_session({});
		session->open("/d/open", false);
		int mapped = session->open("/d/mapped", false);
		session->pwrite(mapped, 0, std::vector<std::byte>(4096));
		session->mmap(mapped, 0, 4096, false);
		auto [o, o_gen] = id("/d/open");
		auto [p, p_gen] = id("/d/mapped");
		changes.push_back({o, o_gen, true});
		changes.push_back({p, p_gen, true});
		want.push_back(Status::applied);
		want.push_back(Status::mapped);
	}
	std::vector<SetFlagResult> results = this->vol().set_dax_flags_if_unmapped(changes);
	ASSERT_EQ(results.size(), want.size());
	for (size_t i = 0; i < want.size(); i++)
		EXPECT_EQ(results[i].status, want[i]) << "change " << i;
	EXPECT_TRUE(this->vol().stat("/d/a").dax_flag);
	EXPECT_FALSE(this->vol().stat("/d/b").dax_flag) << "the later change of a file wins";
	EXPECT_TRUE(this->vol().stat("/moved").dax_flag) << "found where it was moved";
	if (session) {
		EXPECT_TRUE(this->vol().stat("/d/open").dax_flag);
		EXPECT_FALSE(this->vol().stat("/d/mapped").dax_flag);
	}
	EXPECT_TRUE(this->vol().set_dax_flags_if_unmapped({}).empty());
}

TYPED_TEST(VolumeContract, EventsNameTheFileAndWhereItIs)
{
	using Kind = VolumeEvent::Kind;
	auto dir = this->heard(Kind::created, "/d", [&] { this->mkdir("/d"); });
	ASSERT_TRUE(dir);
	FileInfo d = this->vol().stat("/d");
	EXPECT_EQ(dir->ino, d.ino);
	EXPECT_EQ(dir->generation, d.generation);
	auto created = this->heard(Kind::created, "/d/f", [&] { this->create("/d/f"); });
	ASSERT_TRUE(created);
	FileInfo f = this->vol().stat("/d/f");
	EXPECT_EQ(created->ino, f.ino);
	EXPECT_EQ(created->generation, f.generation);
	auto renamed = this->heard(Kind::renamed, "/g", [&] { this->rename("/d/f", "/g"); });
	ASSERT_TRUE(renamed);
	EXPECT_EQ(renamed->old_path, "/d/f");
	EXPECT_EQ(renamed->ino, f.ino);
	EXPECT_EQ(renamed->generation, f.generation);
	auto removed = this->heard(Kind::removed, "/d", [&] { this->remove("/d"); });
	ASSERT_TRUE(removed);
	EXPECT_EQ(removed->ino, d.ino);
	EXPECT_EQ(removed->generation, d.generation);
}

TYPED_TEST(VolumeContract, ListenersHearOfAChangeAfterItAndMayCallBackIn)
{
	Volume &vol = this->vol();
	std::mutex mutex;
	std::condition_variable grew;
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
		grew.notify_all();
	});
	// Each change once the listener is done with the one before: an asynchronous
	// volume's listener would otherwise look for a file already moved on.
	auto after = [&](size_t n, auto change) {
		change();
		std::unique_lock lock(mutex);
		grew.wait_for(lock, this->patience(), [&] { return heard.size() >= n; });
	};
	after(1, [&] { this->mkdir("/d"); });
	after(2, [&] { this->create("/d/f"); });
	after(3, [&] { this->rename("/d/f", "/d/g"); });
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
