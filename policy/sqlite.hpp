// SPDX-License-Identifier: BSD-3-Clause
// RAII handles for sqlite3: a connection and a prepared statement. Every failure becomes an
// Error(internal) carrying sqlite's message; nothing is ignored.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace daxpolicy::policy
{

// Fault injection for tests, as sqlite's own test VFS and PMDK's core_inject_fault_at do:
// when a hook is set, it is asked before each statement this library runs (every prepare,
// step and exec, in order), and `true` makes that call fail as SQLITE_IOERR would. Nothing
// sets one outside tests. Not thread-safe: set it while no store is in use.
using StatementFaultHook = std::function<bool()>;
void set_statement_fault_hook(StatementFaultHook hook);

// A connection, and the statements it has prepared: a statement is prepared once for each
// text of SQL and kept (at most kCachedStatements of them), so that a step of a reconcile
// that runs the same few statements for every file parses none of them again (preparing was
// a third of a 100,000-file rule's time).
class Database
{
      public:
	// Refuses a `file` that is a symbolic link (dangling or not): the daemon's writes
	// would go wherever it points. The folder it is in may be reached through links.
	explicit Database(const std::filesystem::path &file);
	~Database();
	Database(const Database &) = delete;
	Database &operator=(const Database &) = delete;

	void exec(const std::string &sql);
	sqlite3 *handle() const { return db_; }
	int64_t last_insert_rowid() const;
	// Rows the last INSERT, UPDATE or DELETE changed.
	int64_t changes() const;
	[[noreturn]] void fail(const std::string &what) const;

	// A prepared statement of `sql`, kept or new; and one given back, reset, for reuse.
	sqlite3_stmt *take_statement(const std::string &sql);
	void keep_statement(const std::string &sql, sqlite3_stmt *stmt);

	static constexpr size_t kCachedStatements = 64;

	// Whether a write transaction (WriteTransaction) is open on the connection.
	bool in_transaction() const;
	// Work its owner defers to the end of each write transaction: `before_commit` runs
	// inside it, just before COMMIT; `after_rollback` once it has rolled back instead.
	void set_transaction_hooks(std::function<void()> before_commit,
	                           std::function<void()> after_rollback);

      private:
	friend class WriteTransaction;
	sqlite3 *db_ = nullptr;
	std::function<void()> before_commit_;
	std::function<void()> after_rollback_;
	// Statements not in use, by their SQL (several of one text when they were in use
	// together). A connection may be used from several threads (SQLITE_OPEN_FULLMUTEX).
	std::mutex cache_mutex_;
	std::unordered_multimap<std::string, sqlite3_stmt *> cache_;
};

class Statement
{
      public:
	Statement(Database &db, const std::string &sql);
	~Statement();
	Statement(const Statement &) = delete;
	Statement &operator=(const Statement &) = delete;

	// Binds parameters 1..n in order.
	template <class... Args> Statement &bind_all(const Args &...args)
	{
		int i = 1;
		(bind(i++, args), ...);
		return *this;
	}
	void bind(int index, int64_t value);
	void bind(int index, const std::string &value);
	void bind(int index, const std::optional<std::string> &value);
	// True while there is a row to read.
	bool step();
	// Runs a statement that returns no rows.
	void run();
	int64_t integer(int column) const;
	std::string text(int column) const;
	std::optional<std::string> optional_text(int column) const;

      private:
	Database &db_;
	std::string sql_;
	sqlite3_stmt *stmt_ = nullptr;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back if not committed (an exception on the way).
class WriteTransaction
{
      public:
	explicit WriteTransaction(Database &db);
	~WriteTransaction();
	void commit();

      private:
	Database &db_;
	bool done_ = false;
};

} // namespace daxpolicy::policy
