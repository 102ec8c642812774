// SPDX-License-Identifier: BSD-3-Clause
#include "policy/matcher.hpp"

#include <algorithm>
#include <bit>
#include <climits>
#include <cstdint>
#include <fnmatch.h>
#include <functional>
#include <limits>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>

namespace daxpolicy::policy
{

namespace
{

constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

// A glob of fnmatch(3) with no flags, compiled once. No FNM_PERIOD: "*.log" covers ".wal.log"
// too; a hidden file needs the same DAX setting as any other. No FNM_PATHNAME either: names
// have no '/', and neither do valid globs.
// Most globs of a policy are literal text and stars ("*.log", "LOCK", "db*"): those are
// matched here, piece by piece, on the name as it lies in the path. The others ('?',
// brackets, backslashes) go to fnmatch, which knows their rules (classes, ranges, the
// locale's characters).
class Glob
{
      public:
	explicit Glob(const std::string &text) : text_(text)
	{
		if (text.find_first_of("?[\\") != std::string::npos)
			return;
		pieces_.emplace();
		std::size_t start = 0;
		for (std::size_t star; (star = text.find('*', start)) != std::string::npos;
		     start = star + 1)
			pieces_->push_back(text.substr(start, star - start));
		pieces_->push_back(text.substr(start));
	}

	bool matches(std::string_view name) const
	{
		return pieces_ ? matches_pieces(name) : fnmatches(name);
	}

      private:
	// The first piece is a prefix, the last a suffix, and the others come in order between
	// them, each where it first fits: with nothing but stars between the pieces, a match
	// further on never leaves more room for the next piece.
	bool matches_pieces(std::string_view name) const
	{
		const std::string &first = pieces_->front();
		if (pieces_->size() == 1)
			return name == first;
		const std::string &last = pieces_->back();
		if (name.size() < first.size() + last.size() || !name.starts_with(first) ||
		    !name.ends_with(last))
			return false;
		std::string_view between =
		    name.substr(first.size(), name.size() - first.size() - last.size());
		for (std::size_t i = 1; i + 1 < pieces_->size(); i++) {
			std::size_t at = between.find((*pieces_)[i]);
			if (at == std::string_view::npos)
				return false;
			between.remove_prefix(at + (*pieces_)[i].size());
		}
		return true;
	}

	// fnmatch(3) wants a NUL-terminated name; a file name fits in NAME_MAX bytes, so a copy
	// on the stack does.
	bool fnmatches(std::string_view name) const
	{
		char buf[NAME_MAX + 1];
		if (name.size() < sizeof buf) {
			buf[name.copy(buf, name.size())] = '\0';
			return ::fnmatch(text_.c_str(), buf, 0) == 0;
		}
		return ::fnmatch(text_.c_str(), std::string(name).c_str(), 0) == 0;
	}

	std::string text_;
	// text_ split at its stars, when it has no other special character.
	std::optional<std::vector<std::string>> pieces_;
};

bool any_matches(const std::vector<Glob> &globs, std::string_view name)
{
	return std::any_of(globs.begin(), globs.end(),
	                   [name](const Glob &glob) { return glob.matches(name); });
}

// A rule as the trie holds it, at the node of its subtree.
struct NodeRule {
	std::size_t rule; // its index in the Matcher's rules
	bool dax;         // the rule's, here to spare reading the rule
	std::vector<Glob> include;
	std::vector<Glob> exclude;

	NodeRule(std::size_t index, const Rule &r)
	    : rule(index), dax(r.dax), include(r.include.begin(), r.include.end()),
	      exclude(r.exclude.begin(), r.exclude.end())
	{
	}

	bool has_globs() const { return !include.empty() || !exclude.empty(); }
	bool accepts(std::string_view name) const
	{
		if (!include.empty() && !any_matches(include, name))
			return false;
		return !any_matches(exclude, name);
	}
};

// A node of a trie: the subtree of some rule, or a directory above one. Plain numbers, so
// that a node is small and a large trie takes few cache lines to walk.
struct Node {
	uint32_t parent;  // kNone for the root
	uint32_t name_at; // the component that leads here from the parent, in the trie's names
	uint32_t name_size;
	// The rules whose subtree this is, [rules_at, rules_end) of the trie's rules: higher
	// priority first, then name in byte order, how they rank among themselves, all being
	// equally deep.
	uint32_t rules_at = 0;
	uint32_t rules_end = 0;
	uint32_t first_plain = kNone; // the first of them without globs
	uint32_t ruled_above = kNone; // the nearest node above with rules
	// One bit per child, set by its hash (Hashed::filter_bit): a name whose bit is clear
	// is no child, which spares a lookup in the table for most files of a walk (their
	// names lead nowhere), a lookup out of cache when the trie is large.
	uint64_t children = 0;

	bool has_rules() const { return rules_at != rules_end; }
};

// The components of a path: "/a/b" gives "a" then "b". "/" has none, and neither has a path
// that does not start with '/', which only "/" holds. Empty components stay, so that
// "/a/" is held by "/a" only, as by a plain prefix comparison.
class Components
{
      public:
	explicit Components(std::string_view path)
	    : rest_(path.size() > 1 && path.front() == '/' ? path.substr(1) : std::string_view()),
	      done_(rest_.empty())
	{
	}

	bool next(std::string_view &component)
	{
		if (done_)
			return false;
		std::size_t slash = rest_.find('/');
		component = rest_.substr(0, slash);
		done_ = slash == std::string_view::npos;
		if (!done_)
			rest_.remove_prefix(slash + 1);
		return true;
	}

      private:
	std::string_view rest_;
	bool done_;
};

// A child's key, (parent, component), hashed once for every use of it.
struct Hashed {
	uint64_t bits;

	// FNV-1a, inline: components are a few bytes, where a call to std::hash's costs more
	// than the hash. Fibonacci hashing then spreads its bits over the whole product, whose
	// top bits pick the slot.
	Hashed(uint32_t parent, std::string_view component)
	{
		uint64_t h = 0xcbf29ce484222325ULL ^ parent;
		for (char c : component)
			h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
		bits = h * 0x9e3779b97f4a7c15ULL;
	}

	std::size_t slot(int shift) const { return static_cast<std::size_t>(bits >> shift); }
	uint32_t tag() const { return static_cast<uint32_t>(bits); }
	uint64_t filter_bit() const { return uint64_t{1} << ((bits >> 32) & 63); }
};

// One volume's rules, in a trie of the components of their subtrees. A node's children are
// found in one open-addressing table keyed by (parent, component), so that a step down costs
// a hash of the component and, mostly, one slot, however many children the node has.
class Trie
{
      public:
	void add(std::size_t index, const Rule &rule)
	{
		uint32_t node = 0;
		Components components(rule.subtree);
		for (std::string_view c; components.next(c);) {
			uint32_t next = child(node, c);
			node = next == kNone ? add_child(node, c) : next;
		}
		placed_.push_back({node, index});
	}

	// Once every rule is added: each node's rules in order, and the nodes above.
	void finish(const std::vector<Rule> &rules)
	{
		std::sort(placed_.begin(), placed_.end(),
		          [&rules](const Placed &a, const Placed &b) {
			          const Rule &ra = rules[a.rule], &rb = rules[b.rule];
			          return std::tie(a.node, rb.priority, ra.name) <
			                 std::tie(b.node, ra.priority, rb.name);
		          });
		rules_.reserve(placed_.size());
		for (const Placed &p : placed_) {
			Node &node = nodes_[p.node];
			if (!node.has_rules())
				node.rules_at = static_cast<uint32_t>(rules_.size());
			rules_.emplace_back(p.rule, rules[p.rule]);
			if (node.first_plain == kNone && !rules_.back().has_globs())
				node.first_plain = static_cast<uint32_t>(rules_.size() - 1);
			node.rules_end = static_cast<uint32_t>(rules_.size());
		}
		placed_ = {};
		// A child is made after its parent, so parents come first.
		for (Node &node : nodes_)
			if (node.parent != kNone) {
				const Node &parent = nodes_[node.parent];
				node.ruled_above =
				    parent.has_rules() ? node.parent : parent.ruled_above;
			}
	}

	// The deepest node with rules whose subtree holds `path`, or nullptr.
	const Node *first_holder(std::string_view path) const
	{
		uint32_t node = 0;
		Components components(path);
		// A node without children ends the walk before its next component is looked for,
		// which with few rules is at the root.
		for (std::string_view c; nodes_[node].children && components.next(c);) {
			uint32_t next = child(node, c);
			if (next == kNone)
				break;
			node = next;
		}
		return nodes_[node].has_rules() ? &nodes_[node] : next_holder(nodes_[node]);
	}
	// The next shallower one, or nullptr.
	const Node *next_holder(const Node &node) const
	{
		return node.ruled_above == kNone ? nullptr : &nodes_[node.ruled_above];
	}

	std::span<const NodeRule> rules_of(const Node &node) const
	{
		return std::span(rules_).subspan(node.rules_at, node.rules_end - node.rules_at);
	}
	const NodeRule &first_plain(const Node &node) const { return rules_[node.first_plain]; }

      private:
	struct Placed {
		uint32_t node;
		std::size_t rule;
	};
	// A slot holds a node and some bits of its key's hash, so that a probe past a slot of
	// another key rarely reads that key's node.
	struct Slot {
		uint32_t node = kNone;
		uint32_t tag = 0;
	};

	std::string_view name_of(const Node &node) const
	{
		return std::string_view(names_).substr(node.name_at, node.name_size);
	}

	uint32_t child(uint32_t parent, std::string_view component) const
	{
		if (!nodes_[parent].children)
			return kNone;
		Hashed key(parent, component);
		if (!(nodes_[parent].children & key.filter_bit()))
			return kNone;
		std::size_t mask = slots_.size() - 1;
		for (std::size_t s = key.slot(shift_);; s = (s + 1) & mask) {
			const Slot &slot = slots_[s];
			if (slot.node == kNone)
				return kNone;
			const Node &n = nodes_[slot.node];
			if (slot.tag == key.tag() && n.parent == parent && name_of(n) == component)
				return slot.node;
		}
	}

	uint32_t add_child(uint32_t parent, std::string_view component)
	{
		// Node numbers and name offsets are 32 bits: more than 4 GiB of subtrees.
		if (nodes_.size() >= kNone || names_.size() + component.size() >= kNone)
			throw std::length_error("too many rules for the matcher");
		auto id = static_cast<uint32_t>(nodes_.size());
		nodes_.push_back(Node{parent, static_cast<uint32_t>(names_.size()),
		                      static_cast<uint32_t>(component.size())});
		names_ += component;
		nodes_[parent].children |= Hashed(parent, component).filter_bit();
		// At most half full, so that a probe mostly ends at its first slot.
		if (nodes_.size() * 2 > slots_.size())
			rehash(slots_.size() * 2);
		else
			place(id);
		return id;
	}

	void rehash(std::size_t size)
	{
		slots_.assign(size, Slot{});
		shift_ = 64 - std::countr_zero(size);
		for (uint32_t id = 1; id < nodes_.size(); id++)
			place(id);
	}

	void place(uint32_t id)
	{
		Hashed key(nodes_[id].parent, name_of(nodes_[id]));
		std::size_t mask = slots_.size() - 1;
		std::size_t s = key.slot(shift_);
		while (slots_[s].node != kNone)
			s = (s + 1) & mask;
		slots_[s] = Slot{id, key.tag()};
	}

	std::vector<Node> nodes_{Node{kNone, 0, 0}};      // the root first
	std::string names_;                               // the nodes' components, end to end
	std::vector<NodeRule> rules_;                     // the nodes' rules, node by node
	std::vector<Placed> placed_;                      // until finish(): rules and their nodes
	std::vector<Slot> slots_ = std::vector<Slot>(16); // a power of two
	int shift_ = 64 - 4;                              // 64 - log2 of the slots
};

// A path's name: what follows its last '/'.
std::string_view base_name(std::string_view path)
{
	std::size_t slash = path.rfind('/');
	return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

} // namespace

struct Matcher::Index {
	std::map<std::string, Trie, std::less<>> by_volume;

	// A moved-from Matcher has no index, and matches nothing.
	static const Trie *find(const Index *index, std::string_view volume)
	{
		if (!index)
			return nullptr;
		auto it = index->by_volume.find(volume);
		return it == index->by_volume.end() ? nullptr : &it->second;
	}
};

Matcher::Matcher(std::vector<Rule> rules) : rules_(std::move(rules))
{
	auto index = std::make_shared<Index>();
	for (std::size_t i = 0; i < rules_.size(); i++)
		index->by_volume[rules_[i].volume].add(i, rules_[i]);
	for (auto &[volume, trie] : index->by_volume)
		trie.finish(rules_);
	index_ = std::move(index);
}

std::optional<Decision> Matcher::decide(std::string_view volume, std::string_view path,
                                        bool is_directory) const
{
	const Trie *trie = Index::find(index_.get(), volume);
	if (!trie)
		return std::nullopt;

	std::optional<std::string_view> name; // found when a glob first needs it
	const NodeRule *first_with_globs = nullptr;
	for (const Node *node = trie->first_holder(path); node; node = trie->next_holder(*node)) {
		if (!is_directory) {
			for (const NodeRule &r : trie->rules_of(*node)) {
				if (r.has_globs() && !name)
					name = base_name(path);
				if (!r.has_globs() || r.accepts(*name))
					return Decision{&rules_[r.rule], r.dax};
			}
			continue;
		}
		if (node->first_plain != kNone) {
			const NodeRule &plain = trie->first_plain(*node);
			return Decision{&rules_[plain.rule], plain.dax};
		}
		if (!first_with_globs)
			first_with_globs = &trie->rules_of(*node).front();
	}
	if (first_with_globs)
		return Decision{&rules_[first_with_globs->rule], false};
	return std::nullopt;
}

const Rule *Matcher::match(std::string_view volume, std::string_view path, bool is_directory) const
{
	auto decision = decide(volume, path, is_directory);
	return decision ? decision->rule : nullptr;
}

Explanation Matcher::explain(std::string_view volume, std::string_view path,
                             bool is_directory) const
{
	Explanation explanation;
	if (const Trie *trie = Index::find(index_.get(), volume)) {
		std::string_view name = base_name(path);
		for (const Node *node = trie->first_holder(path); node;
		     node = trie->next_holder(*node))
			for (const NodeRule &r : trie->rules_of(*node))
				explanation.contenders.push_back(
				    {&rules_[r.rule], r.accepts(name)});
	}
	explanation.decision = decide(volume, path, is_directory);
	return explanation;
}

} // namespace daxpolicy::policy
