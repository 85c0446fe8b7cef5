/*
 * mandi_rows(?): the SQLite driver's rows_from, a table-valued function that
 * reads a bound struct db_rows (sqlite3_bind_pointer, type "mandi_rows")
 * where it lies, as columns c0 … c15.
 */
#ifndef MANDI_DB_SQLITE_ROWS_H
#define MANDI_DB_SQLITE_ROWS_H
#include <sqlite3.h>

/** The pointer type name a struct db_rows is bound under. */
#define SQLITE_ROWS_PTR "mandi_rows"

/** Register mandi_rows on connection db; an SQLite result code. */
int sqlite_rows_register(sqlite3 *db);

#endif
