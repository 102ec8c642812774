// SPDX-License-Identifier: BSD-3-Clause
#include "policy/policy_file.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdint>
#include <fcntl.h>
#include <iterator>
#include <map>
#include <optional>
#include <sys/stat.h>
#include <system_error>
#include <toml++/toml.h>
#include <tuple>
#include <unistd.h>
#include <variant>

namespace daxpolicy::policy
{

namespace
{

namespace fs = std::filesystem;

// Rule name -> "file:line:col" of its first definition, shared by the files of one load so that
// a second definition can point back to the first.
using NameTable = std::map<std::string, std::string, std::less<>>;

std::string in_quotes(std::string_view s)
{
	return '"' + std::string(s) + '"';
}

// The words of the TOML specification, for "expected X, got Y".
std::string type_name(toml::node_type type)
{
	switch (type) {
	case toml::node_type::none:
		break;
	case toml::node_type::table:
		return "table";
	case toml::node_type::array:
		return "array";
	case toml::node_type::string:
		return "string";
	case toml::node_type::integer:
		return "integer";
	case toml::node_type::floating_point:
		return "float";
	case toml::node_type::boolean:
		return "boolean";
	case toml::node_type::date:
		return "local date";
	case toml::node_type::time:
		return "local time";
	case toml::node_type::date_time:
		return "date-time";
	}
	return "nothing";
}

PolicyError error_at(const std::string &file, const toml::source_region &where, std::string message)
{
	return {file, static_cast<int>(where.begin.line), static_cast<int>(where.begin.column),
	        std::move(message)};
}

PolicyError file_error(const fs::path &file, std::string message)
{
	return {file.string(), 0, 0, std::move(message)};
}

// Reads the rules of one parsed document, collecting every problem rather than stopping at the
// first, so that one run of `check` shows them all.
class DocumentReader
{
      public:
	DocumentReader(std::string file, NameTable &names) : file_(std::move(file)), names_(names)
	{
	}

	void read(const toml::table &root);
	PolicyLoad take();

      private:
	void report(const toml::source_region &where, std::string message);
	void read_rules(const toml::node &node);
	void read_rule(const toml::table &table);
	void check_keys(const toml::table &table);
	void check_unique(const toml::node &name_node, const std::string &name);
	const toml::node *required(const toml::table &table, std::string_view key);
	bool read_string(const toml::table &table, std::string_view key, std::string &out);
	bool read_dax(const toml::table &table, bool &out);
	bool read_globs(const toml::table &table, std::string_view key,
	                std::vector<std::string> &out);
	bool read_priority(const toml::table &table, int &out);
	const toml::source_region &where_problem(const toml::table &table,
	                                         std::string_view problem) const;

	std::string file_;
	NameTable &names_;
	PolicyLoad load_;
};

void DocumentReader::report(const toml::source_region &where, std::string message)
{
	load_.errors.push_back(error_at(file_, where, std::move(message)));
}

void DocumentReader::read(const toml::table &root)
{
	for (auto &&[key, node] : root) {
		if (key.str() == "rule")
			read_rules(node);
		else
			report(key.source(), "unknown top-level key " + in_quotes(key.str()) +
			                         " (only [[rule]] tables are allowed)");
	}
}

// `[[rule]]` tables, or the same written as `rule = [{...}, ...]`.
void DocumentReader::read_rules(const toml::node &node)
{
	const toml::array *rules = node.as_array();
	if (!rules) {
		report(node.source(), "rule: expected an array of tables ([[rule]]), got " +
		                          type_name(node.type()));
		return;
	}
	for (std::size_t i = 0; i < rules->size(); i++) {
		const toml::node &element = (*rules)[i];
		if (const toml::table *table = element.as_table())
			read_rule(*table);
		else
			report(element.source(), "rule[" + std::to_string(i) +
			                             "]: expected a table, got " +
			                             type_name(element.type()));
	}
}

void DocumentReader::read_rule(const toml::table &table)
{
	Rule rule;
	rule.source = file_;

	check_keys(table);
	bool complete = read_string(table, "name", rule.name);
	if (complete)
		check_unique(*table.get("name"), rule.name);
	complete &= read_string(table, "volume", rule.volume);
	complete &= read_string(table, "subtree", rule.subtree);
	complete &= read_dax(table, rule.dax);
	complete &= read_globs(table, "include", rule.include);
	complete &= read_globs(table, "exclude", rule.exclude);
	complete &= read_priority(table, rule.priority);
	// Validating a rule that lacks a field would only repeat what was just reported.
	if (!complete)
		return;
	if (auto problem = validate_rule(rule)) {
		report(where_problem(table, *problem), *problem);
		return;
	}
	const toml::source_position &at = table.get("volume")->source().begin;
	load_.volume_at[rule.name] = {static_cast<int>(at.line), static_cast<int>(at.column)};
	load_.rules.push_back(std::move(rule));
}

void DocumentReader::check_keys(const toml::table &table)
{
	static constexpr std::string_view known[] = {"name",    "volume",  "subtree", "dax",
	                                             "include", "exclude", "priority"};

	for (auto &&[key, node] : table) {
		if (std::find(std::begin(known), std::end(known), key.str()) == std::end(known))
			report(key.source(),
			       "unknown key " + in_quotes(key.str()) + " in [[rule]]");
	}
}

void DocumentReader::check_unique(const toml::node &name_node, const std::string &name)
{
	const toml::source_position &at = name_node.source().begin;
	std::string here = file_ + ":" + std::to_string(at.line) + ":" + std::to_string(at.column);
	auto [first, inserted] = names_.try_emplace(name, here);

	if (!inserted)
		report(name_node.source(),
		       "name: " + in_quotes(name) + " is already defined at " + first->second);
}

// A missing key is reported at its [[rule]], the only place there is to point at.
const toml::node *DocumentReader::required(const toml::table &table, std::string_view key)
{
	const toml::node *node = table.get(key);
	if (!node)
		report(table.source(), "missing required key " + in_quotes(key));
	return node;
}

bool DocumentReader::read_string(const toml::table &table, std::string_view key, std::string &out)
{
	const toml::node *node = required(table, key);
	if (!node)
		return false;
	const toml::value<std::string> *value = node->as_string();
	if (!value) {
		report(node->source(),
		       std::string(key) + ": expected a string, got " + type_name(node->type()));
		return false;
	}
	out = value->get();
	return true;
}

bool DocumentReader::read_dax(const toml::table &table, bool &out)
{
	const toml::node *node = required(table, "dax");
	if (!node)
		return false;
	const toml::value<std::string> *value = node->as_string();
	if (value && (value->get() == "on" || value->get() == "off")) {
		out = value->get() == "on";
		return true;
	}
	report(node->source(), "dax: expected \"on\" or \"off\", got " +
	                           (value ? in_quotes(value->get()) : type_name(node->type())));
	return false;
}

bool DocumentReader::read_globs(const toml::table &table, std::string_view key,
                                std::vector<std::string> &out)
{
	const toml::node *node = table.get(key);
	if (!node)
		return true;
	const toml::array *array = node->as_array();
	if (!array) {
		report(node->source(), std::string(key) + ": expected an array of strings, got " +
		                           type_name(node->type()));
		return false;
	}
	bool complete = true;
	for (std::size_t i = 0; i < array->size(); i++) {
		const toml::node &element = (*array)[i];
		if (const toml::value<std::string> *glob = element.as_string()) {
			out.push_back(glob->get());
			continue;
		}
		report(element.source(), std::string(key) + "[" + std::to_string(i) +
		                             "]: expected a string, got " +
		                             type_name(element.type()));
		complete = false;
	}
	return complete;
}

bool DocumentReader::read_priority(const toml::table &table, int &out)
{
	const toml::node *node = table.get("priority");
	if (!node)
		return true;
	const toml::value<int64_t> *value = node->as_integer();
	if (!value) {
		report(node->source(),
		       "priority: expected an integer, got " + type_name(node->type()));
		return false;
	}
	// TOML integers are 64-bit. Clamped, a value too big for an int stays out of the allowed
	// range, so validate_rule reports it like any other.
	out = static_cast<int>(std::clamp<int64_t>(value->get(), INT_MIN, INT_MAX));
	return true;
}

// validate_rule's problems start with the field ("subtree: ...", "include[1]: ..."); point at
// that field's value, or at the rule itself when the field is not written.
const toml::source_region &DocumentReader::where_problem(const toml::table &table,
                                                         std::string_view problem) const
{
	std::string_view field = problem.substr(0, problem.find_first_of("[:"));
	const toml::node *node = table.get(field);
	if (!node)
		return table.source();

	const toml::array *array = node->as_array();
	std::string_view rest = problem.substr(field.size());
	std::size_t index = 0;
	if (array && rest.starts_with('[') &&
	    std::from_chars(rest.data() + 1, rest.data() + rest.size(), index).ec == std::errc() &&
	    index < array->size())
		return (*array)[index].source();
	return node->source();
}

PolicyLoad DocumentReader::take()
{
	std::stable_sort(load_.errors.begin(), load_.errors.end(),
	                 [](const PolicyError &a, const PolicyError &b) {
		                 return std::tie(a.line, a.column) < std::tie(b.line, b.column);
	                 });
	if (!load_.errors.empty()) {
		load_.rules.clear();
		load_.volume_at.clear();
	}
	return std::move(load_);
}

// toml++ reports syntax errors by throwing; this layer hands errors back as values.
std::variant<toml::table, PolicyError> parse_toml(std::string_view text, const std::string &file)
{
	try {
		return toml::parse(text, std::string_view(file));
	} catch (const toml::parse_error &error) {
		return error_at(file, error.source(), std::string(error.description()));
	}
}

PolicyLoad read_document(std::string_view text, const std::string &file, NameTable &names)
{
	auto parsed = parse_toml(text, file);
	if (auto *error = std::get_if<PolicyError>(&parsed))
		return {{}, {std::move(*error)}, {}};

	DocumentReader reader(file, names);
	reader.read(std::get<toml::table>(parsed));
	return reader.take();
}

// What kind of file `st` is, for an error that says why it was not read.
const char *kind_of(const struct stat &st)
{
	if (S_ISDIR(st.st_mode))
		return "a directory";
	if (S_ISFIFO(st.st_mode))
		return "a FIFO";
	if (S_ISSOCK(st.st_mode))
		return "a socket";
	if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
		return "a device";
	return "not a regular file";
}

struct FileDescriptor {
	int fd;
	~FileDescriptor()
	{
		if (fd >= 0)
			::close(fd);
	}
};

// Plain read(2) rather than a stream, so that the reason for a failure (errno) is not lost.
// With FileKinds::any, pipes are read too: `daxpolicy check <(generate-policy)` works. With
// FileKinds::regular the open cannot block (O_NONBLOCK: a FIFO would wait for a writer) and
// anything but a regular file is refused before a byte is read. Returns why it failed.
std::optional<std::string> read_whole_file(const fs::path &file, FileKinds kinds, std::string &out)
{
	auto os_error = [](const char *what) {
		return std::string(what) + ": " + std::generic_category().message(errno);
	};
	int flags = O_RDONLY | O_CLOEXEC | (kinds == FileKinds::regular ? O_NONBLOCK : 0);
	FileDescriptor f{::open(file.c_str(), flags)};
	if (f.fd < 0)
		return os_error("cannot read");
	if (kinds == FileKinds::regular) {
		struct stat st {
		};
		if (::fstat(f.fd, &st) != 0)
			return os_error("cannot stat");
		if (!S_ISREG(st.st_mode))
			return std::string("not read: ") + kind_of(st) +
			       ", and only regular files are read as policy files";
	}
	char buffer[16384];
	for (;;) {
		ssize_t n = ::read(f.fd, buffer, sizeof(buffer));
		if (n > 0) {
			out.append(buffer, static_cast<std::size_t>(n));
			if (out.size() > kMaxPolicyFileBytes)
				return "not read: larger than " +
				       std::to_string(kMaxPolicyFileBytes >> 20) +
				       " MiB, the most a policy file may be";
		} else if (n == 0) {
			return std::nullopt;
		} else if (errno != EINTR) {
			return os_error("cannot read");
		}
	}
}

PolicyLoad load_file(const fs::path &file, FileKinds kinds, NameTable &names)
{
	std::string text;
	if (auto error = read_whole_file(file, kinds, text))
		return {{}, {file_error(file, *error)}, {}};
	return read_document(text, file.string(), names);
}

// The drop-ins of a folder, in byte order of name, so that the order (and which of two
// definitions of a name is reported) does not depend on the locale or the directory's layout.
// Every *.toml entry but a folder is one: a FIFO or a dangling link among them is reported
// when it is read, not skipped in silence.
std::optional<std::string> list_drop_ins(const fs::path &folder, std::vector<fs::path> &files)
{
	std::error_code ec;
	for (fs::directory_iterator it(folder, ec); !ec && it != fs::directory_iterator();
	     it.increment(ec)) {
		std::error_code type_ec;
		if (it->path().extension() != ".toml" || it->is_directory(type_ec))
			continue;
		if (files.size() == kMaxPolicyFiles)
			return "cannot list: more than " + std::to_string(kMaxPolicyFiles) +
			       " *.toml files, the most a policy folder may have";
		files.push_back(it->path());
	}
	if (ec)
		return "cannot list: " + ec.message();
	std::sort(files.begin(), files.end(), [](const fs::path &a, const fs::path &b) {
		return a.filename().native() < b.filename().native();
	});
	return std::nullopt;
}

PolicyLoad load_folder(const fs::path &folder)
{
	std::vector<fs::path> files;
	if (auto error = list_drop_ins(folder, files))
		return {{}, {file_error(folder, *error)}, {}};

	NameTable names;
	PolicyLoad all;
	for (const fs::path &file : files) {
		PolicyLoad one = load_file(file, FileKinds::regular, names);
		std::move(one.rules.begin(), one.rules.end(), std::back_inserter(all.rules));
		std::move(one.errors.begin(), one.errors.end(), std::back_inserter(all.errors));
		all.volume_at.merge(one.volume_at);
	}
	return all;
}

} // namespace

std::string PolicyError::to_string() const
{
	if (line == 0)
		return file + ": " + message;
	return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

PolicyLoad parse_policy_text(std::string_view text, const std::string &file_name)
{
	NameTable names;
	return read_document(text, file_name, names);
}

PolicyLoad load_policy_file(const std::filesystem::path &file, FileKinds kinds)
{
	NameTable names;
	return load_file(file, kinds, names);
}

PolicyLoad load_policy_path(const std::filesystem::path &path, FileKinds kinds)
{
	std::error_code ec;
	// Anything but a folder, a missing path included, is read as a file, which reports why
	// it cannot be read.
	if (fs::is_directory(path, ec))
		return load_folder(path);
	return load_policy_file(path, kinds);
}

} // namespace daxpolicy::policy
