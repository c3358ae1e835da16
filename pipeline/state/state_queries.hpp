#pragma once
// Reads of OUT/state.sqlite that the build's StateDb and the read-only StateReader both
// make, written once (for state_db.cpp and state_reader.cpp only).

#include "pipeline/common/sqlite_db.hpp"
#include "pipeline/state/job.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace skyscript::pipeline::state_queries {

// Rows of (text, count) as a map, e.g. "SELECT status, count(*) ... GROUP BY status".
std::map<std::string, std::int64_t> text_counts(SqliteDb& db, const char* sql);
// Jobs by status, the four statuses always present.
std::map<std::string, std::int64_t> count_by_status(SqliteDb& db);
// The plan's skip counts: reason -> objects.
std::map<std::string, std::int64_t> skipped(SqliteDb& db);
// The options the build recorded.
std::map<std::string, std::string> options(SqliteDb& db);
// Whether the jobs table has this column (a state DB of an older version may lack it).
bool has_jobs_column(SqliteDb& db, const char* name);

// Whether a polish run has started in this OUT (StateDb::mark_polish_started; a merge's OUT
// when one of its shards' polish was stopped).
bool polish_started(SqliteDb& db);

// The fetched jobs in job order, then the written ones.
void for_each_with_files(SqliteDb& db, const std::function<void(const JobFiles&)>& fn);

} // namespace skyscript::pipeline::state_queries
