// SPDX-License-Identifier: BSD-3-Clause
// Rules as the tests write them: a name, a subtree and the flag it wants, on pool0 (the
// volume every test serves) unless said otherwise; the other fields only where a test needs
// them, by name, so that a call says which field a value is for:
//
//	engine.add_rule(make_rule("wal", "/db/wal", true).include({"*.log"}).priority(10));
//
// A builder turns into the Rule it built wherever a Rule is wanted.
#pragma once

#include "policy/rule.hpp"

#include <string>
#include <utility>
#include <vector>

namespace daxpolicy::test
{

class RuleBuilder
{
      public:
	RuleBuilder(std::string name, std::string subtree, bool dax)
	{
		rule_.name = std::move(name);
		rule_.volume = "pool0";
		rule_.subtree = std::move(subtree);
		rule_.dax = dax;
	}

	RuleBuilder &include(std::vector<std::string> globs)
	{
		rule_.include = std::move(globs);
		return *this;
	}
	RuleBuilder &exclude(std::vector<std::string> globs)
	{
		rule_.exclude = std::move(globs);
		return *this;
	}
	RuleBuilder &priority(int priority)
	{
		rule_.priority = priority;
		return *this;
	}
	RuleBuilder &on_volume(std::string volume)
	{
		rule_.volume = std::move(volume);
		return *this;
	}
	// A managed rule, as `apply` gets it from the policy file `source`.
	RuleBuilder &managed(std::string source = "/etc/daxpolicy/policy.d/10-test.toml")
	{
		rule_.source = std::move(source);
		return *this;
	}

	operator policy::Rule() const { return rule_; }

      private:
	policy::Rule rule_;
};

inline RuleBuilder make_rule(std::string name, std::string subtree, bool dax)
{
	return RuleBuilder(std::move(name), std::move(subtree), dax);
}

} // namespace daxpolicy::test
