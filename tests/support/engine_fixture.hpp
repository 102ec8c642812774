// SPDX-License-Identifier: BSD-3-Clause
// An engine and its store over one volume, pool0, and what a user of `list` and `list-events`
// sees of its files: shared by the engine's tests over the fake volume (the policy on its
// own) and over the embedded one (the engine and the core together).
#pragma once

#include "policy/engine.hpp"
#include "policy/store.hpp"
#include "tests/support/temp_dir.hpp"

#include <filesystem>
#include <gtest/gtest.h>
#include <memory>
#include <string>
#include <vector>

namespace daxpolicy::test
{

inline policy::EventQuery of_type(const std::string &type)
{
	policy::EventQuery q;
	q.types = {type};
	return q;
}

// What `apply` did to the rules, and what its job did to the files.
struct Applied : policy::ApplyResult {
	policy::FileCounts files;
	bool changed_anything() const { return rules_changed() || files.applied || files.deferred; }
};

class EngineFixture : public ::testing::Test
{
      protected:
	// The fixture's engine has no event loop: a job ends within the call that starts it.
	Applied apply_now(const std::vector<policy::Rule> &rules, bool dry_run)
	{
		Applied out;
		std::optional<policy::JobReport> job;
		static_cast<policy::ApplyResult &>(out) =
		    engine_->apply(rules, dry_run, [&](const policy::JobReport &r) { job = r; });
		EXPECT_TRUE(job) << "the job ended within the call";
		if (job)
			out.files = job->files;
		return out;
	}
	policy::FileCounts reconcile_now(const std::optional<std::string> &volume,
	                                 const std::optional<std::string> &path)
	{
		std::optional<policy::JobReport> job;
		engine_->reconcile(volume, path, [&](const policy::JobReport &r) { job = r; });
		EXPECT_TRUE(job) << "the job ended within the call";
		return job ? job->files : policy::FileCounts{};
	}

	// As the daemon starts: the store opened, an engine over `vol` started on it (which
	// applies what the store queued).
	void start_engine(fscore::Volume &vol)
	{
		volume_ = &vol;
		store_ = std::make_unique<policy::Store>(db_);
		engine_ = std::make_unique<policy::Engine>(
		    *store_, std::map<std::string, fscore::Volume *>{{"pool0", volume_}});
		engine_->start();
	}
	// The engine first, so that it hears nothing of what follows.
	void stop_engine()
	{
		engine_.reset();
		store_.reset();
	}
	// Before the volume goes, which the fixtures below declare after this one's members.
	void TearDown() override { stop_engine(); }

	policy::FileView view(const std::string &path)
	{
		auto views = engine_->list("pool0", path, false);
		EXPECT_EQ(views.size(), 1u);
		return views.at(0);
	}
	std::string state(const std::string &path) { return file_state_name(view(path).state); }
	bool flag(const std::string &path) { return volume_->stat(path).dax_flag; }

	// The events of one type about one path, oldest first.
	std::vector<policy::Event> events(const std::string &type, const std::string &path)
	{
		std::vector<policy::Event> out;
		for (auto &e : store_->events(of_type(type)))
			if (e.path == path)
				out.push_back(std::move(e));
		return out;
	}

	TempDir dir_;
	std::filesystem::path db_ = dir_ / "daxpolicy.db";
	std::unique_ptr<policy::Store> store_;
	std::unique_ptr<policy::Engine> engine_;

      private:
	fscore::Volume *volume_ = nullptr; // the engine's
};

} // namespace daxpolicy::test
