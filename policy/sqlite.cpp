// SPDX-License-Identifier: BSD-3-Clause
#include "policy/sqlite.hpp"

#include "common/error.hpp"

#include <sqlite3.h>

namespace daxpolicy::policy
{

namespace
{

StatementFaultHook fault_hook;

// A statement the fault hook makes fail, as sqlite's test VFS would.
void check_injected_fault(const char *what)
{
	if (fault_hook && fault_hook())
		throw Error(Errc::internal, std::string("database: ") + what + ": " +
		                                sqlite3_errstr(SQLITE_IOERR) + " (injected)");
}

// The database file with its folder's symbolic links resolved, so that SQLITE_OPEN_NOFOLLOW
// refuses a link at the file itself only.
std::filesystem::path resolve_folder(const std::filesystem::path &file)
{
	std::filesystem::path absolute = std::filesystem::absolute(file);
	std::error_code ec;
	auto st = std::filesystem::symlink_status(absolute, ec);
	if (!ec && std::filesystem::is_symlink(st)) {
		auto target = std::filesystem::read_symlink(absolute, ec);
		throw Error(Errc::invalid_argument,
		            absolute.string() + ": the database is a symbolic link (to " +
		                (ec ? std::string("?") : target.string()) +
		                "); refusing to follow it: make it a regular file or remove it");
	}
	auto folder = std::filesystem::weakly_canonical(absolute.parent_path(), ec);
	return ec ? absolute : folder / absolute.filename();
}

} // namespace

void set_statement_fault_hook(StatementFaultHook hook)
{
	fault_hook = std::move(hook);
}

Database::Database(const std::filesystem::path &file)
{
	std::filesystem::path path = resolve_folder(file);
	// NOFOLLOW as well: a link made after the check above is refused by the open itself.
	if (sqlite3_open_v2(path.c_str(), &db_,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX |
	                        SQLITE_OPEN_NOFOLLOW,
	                    nullptr) != SQLITE_OK) {
		std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
		sqlite3_close(db_);
		throw Error(Errc::internal, file.string() + ": cannot open database: " + msg);
	}
	sqlite3_busy_timeout(db_, 5000);
}

Database::~Database()
{
	for (auto &[sql, stmt] : cache_)
		sqlite3_finalize(stmt);
	sqlite3_close(db_);
}

bool Database::in_transaction() const
{
	return !sqlite3_get_autocommit(db_);
}

void Database::set_transaction_hooks(std::function<void()> before_commit,
                                     std::function<void()> after_rollback)
{
	before_commit_ = std::move(before_commit);
	after_rollback_ = std::move(after_rollback);
}

sqlite3_stmt *Database::take_statement(const std::string &sql)
{
	{
		std::lock_guard lock(cache_mutex_);
		if (auto kept = cache_.find(sql); kept != cache_.end()) {
			sqlite3_stmt *stmt = kept->second;
			cache_.erase(kept);
			return stmt;
		}
	}
	sqlite3_stmt *stmt = nullptr;
	if (sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) !=
	    SQLITE_OK)
		fail("prepare");
	return stmt;
}

void Database::keep_statement(const std::string &sql, sqlite3_stmt *stmt)
{
	// Reset, as if new: no row pending (its read lock let go), no value bound.
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	std::lock_guard lock(cache_mutex_);
	if (cache_.size() >= kCachedStatements) {
		sqlite3_finalize(stmt);
		return;
	}
	cache_.emplace(sql, stmt);
}

void Database::fail(const std::string &what) const
{
	throw Error(Errc::internal, "database: " + what + ": " + sqlite3_errmsg(db_));
}

void Database::exec(const std::string &sql)
{
	check_injected_fault("exec");
	char *err = nullptr;
	if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
		std::string msg = err ? err : "unknown error";
		sqlite3_free(err);
		throw Error(Errc::internal, "database: " + msg);
	}
}

int64_t Database::last_insert_rowid() const
{
	return sqlite3_last_insert_rowid(db_);
}

int64_t Database::changes() const
{
	return sqlite3_changes64(db_);
}

Statement::Statement(Database &db, const std::string &sql) : db_(db), sql_(sql)
{
	// Asked as for every prepare, kept statement or not: the faults a test injects do not
	// depend on what the cache holds.
	check_injected_fault("prepare");
	stmt_ = db.take_statement(sql_);
}

Statement::~Statement()
{
	db_.keep_statement(sql_, stmt_);
}

void Statement::bind(int index, int64_t value)
{
	if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK)
		db_.fail("bind");
}

void Statement::bind(int index, const std::string &value)
{
	if (sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()),
	                      SQLITE_TRANSIENT) != SQLITE_OK)
		db_.fail("bind");
}

void Statement::bind(int index, const std::optional<std::string> &value)
{
	if (!value) {
		if (sqlite3_bind_null(stmt_, index) != SQLITE_OK)
			db_.fail("bind");
		return;
	}
	bind(index, *value);
}

bool Statement::step()
{
	check_injected_fault("step");
	int rc = sqlite3_step(stmt_);
	if (rc == SQLITE_ROW)
		return true;
	if (rc != SQLITE_DONE)
		db_.fail("step");
	return false;
}

void Statement::run()
{
	while (step()) {
	}
	sqlite3_reset(stmt_);
}

int64_t Statement::integer(int column) const
{
	return sqlite3_column_int64(stmt_, column);
}

std::string Statement::text(int column) const
{
	const auto *p = sqlite3_column_text(stmt_, column);
	return p ? std::string(reinterpret_cast<const char *>(p),
	                       static_cast<size_t>(sqlite3_column_bytes(stmt_, column)))
	         : std::string();
}

std::optional<std::string> Statement::optional_text(int column) const
{
	if (sqlite3_column_type(stmt_, column) == SQLITE_NULL)
		return std::nullopt;
	return text(column);
}

WriteTransaction::WriteTransaction(Database &db) : db_(db)
{
	db_.exec("BEGIN IMMEDIATE");
}

WriteTransaction::~WriteTransaction()
{
	if (done_)
		return;
	sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
	if (db_.after_rollback_)
		db_.after_rollback_();
}

void WriteTransaction::commit()
{
	if (db_.before_commit_)
		db_.before_commit_(); // a failure rolls back, as the COMMIT's would
	db_.exec("COMMIT");
	done_ = true;
}

} // namespace daxpolicy::policy
