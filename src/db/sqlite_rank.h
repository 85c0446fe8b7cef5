/*
 * mandi_rank: the SQLite driver's full-text ranking function (an FTS5
 * auxiliary function), used by its fts_match SQL.
 */
#ifndef MANDI_DB_SQLITE_RANK_H
#define MANDI_DB_SQLITE_RANK_H
#include <sqlite3.h>

/** Register mandi_rank() on connection db; an SQLite result code. */
int sqlite_rank_register(sqlite3 *db);

#endif
