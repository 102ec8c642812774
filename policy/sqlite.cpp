#include "policy/sqlite.hpp"

#include "fscore/error.hpp"

#include <sqlite3.h>

namespace daxpolicy::policy
{

Database::Database(const std::filesystem::path &file)
{
	if (sqlite3_open_v2(file.c_str(), &db_,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
	                    nullptr) != SQLITE_OK) {
		std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
		sqlite3_close(db_);
		throw Error(Errc::internal, file.string() + ": cannot open database: " + msg);
	}
	sqlite3_busy_timeout(db_, 5000);
}

Database::~Database()
{
	sqlite3_close(db_);
}

void Database::fail(const std::string &what) const
{
	throw Error(Errc::internal, "database: " + what + ": " + sqlite3_errmsg(db_));
}

void Database::exec(const std::string &sql)
{
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

Statement::Statement(Database &db, const std::string &sql) : db_(db)
{
	if (sqlite3_prepare_v2(db.handle(), sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK)
		db.fail("prepare");
}

Statement::~Statement()
{
	sqlite3_finalize(stmt_);
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
	if (!done_)
		sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void WriteTransaction::commit()
{
	db_.exec("COMMIT");
	done_ = true;
}

} // namespace daxpolicy::policy
