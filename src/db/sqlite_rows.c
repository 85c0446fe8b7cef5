/*
 * mandi_rows: an eponymous virtual table whose one hidden column takes the
 * bound batch; every other column is a cell of the current row. Bulk writes
 * bound as JSON text paid for parsing each row again for every `->>` (about
 * 0.7 µs a cell on SQLite 3.40, more than the B-tree insert of a narrow
 * row); this hands SQLite the cells themselves.
 */
#include "db/sqlite_rows.h"

#include <string.h>

#include "db/db.h"

/* c0 … c15, then the batch */
#define COL_ROWS DB_ROWS_MAX_COLS

struct rows_cursor {
	sqlite3_vtab_cursor base;
	const struct db_rows *rows;
	int row;
};

static int rows_connect(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **out,
			char **err)
{
	(void)aux;
	(void)argc;
	(void)argv;
	(void)err;
	int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, "
					  "c11, c12, c13, c14, c15, batch HIDDEN)");
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_vtab *t = sqlite3_malloc(sizeof(*t));
	if (!t)
		return SQLITE_NOMEM;
	memset(t, 0, sizeof(*t));
	*out = t;
	return SQLITE_OK;
}

static int rows_disconnect(sqlite3_vtab *t)
{
	sqlite3_free(t);
	return SQLITE_OK;
}

/* The batch argument is required: mandi_rows($1). */
static int rows_best_index(sqlite3_vtab *t, sqlite3_index_info *info)
{
	(void)t;
	for (int i = 0; i < info->nConstraint; i++) {
		const struct sqlite3_index_constraint *c = &info->aConstraint[i];
		if (c->iColumn == COL_ROWS && c->op == SQLITE_INDEX_CONSTRAINT_EQ) {
			if (!c->usable)
				return SQLITE_CONSTRAINT;
			info->aConstraintUsage[i].argvIndex = 1;
			info->aConstraintUsage[i].omit = 1;
			info->estimatedCost = 10;
			info->estimatedRows = 1000;
			return SQLITE_OK;
		}
	}
	return SQLITE_CONSTRAINT;
}

static int rows_open(sqlite3_vtab *t, sqlite3_vtab_cursor **out)
{
	(void)t;
	struct rows_cursor *c = sqlite3_malloc(sizeof(*c));
	if (!c)
		return SQLITE_NOMEM;
	memset(c, 0, sizeof(*c));
	*out = &c->base;
	return SQLITE_OK;
}

static int rows_close(sqlite3_vtab_cursor *cur)
{
	sqlite3_free(cur);
	return SQLITE_OK;
}

static int rows_filter(sqlite3_vtab_cursor *cur, int idx, const char *idxstr, int argc, sqlite3_value **argv)
{
	(void)idx;
	(void)idxstr;
	struct rows_cursor *c = (struct rows_cursor *)cur;
	c->rows = argc > 0 ? sqlite3_value_pointer(argv[0], SQLITE_ROWS_PTR) : NULL;
	c->row = 0;
	return SQLITE_OK;
}

static int rows_next(sqlite3_vtab_cursor *cur)
{
	((struct rows_cursor *)cur)->row++;
	return SQLITE_OK;
}

static int rows_eof(sqlite3_vtab_cursor *cur)
{
	const struct rows_cursor *c = (const struct rows_cursor *)cur;
	return !c->rows || c->row >= c->rows->nrows;
}

static int rows_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col)
{
	const struct rows_cursor *c = (const struct rows_cursor *)cur;
	const struct db_rows *r = c->rows;
	if (col >= r->ncols) { /* a column past the batch's, or the batch itself */
		sqlite3_result_null(ctx);
		return SQLITE_OK;
	}
	const struct db_cell *cell = &r->cells[(size_t)c->row * (size_t)r->ncols + (size_t)col];
	switch (cell->t) {
	case DB_INT: sqlite3_result_int64(ctx, cell->i); break;
	case DB_TEXT: sqlite3_result_text(ctx, db_rows_str(r, cell), (int)cell->n, SQLITE_STATIC); break;
	default: sqlite3_result_null(ctx); break;
	}
	return SQLITE_OK;
}

static int rows_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid)
{
	*rowid = ((const struct rows_cursor *)cur)->row;
	return SQLITE_OK;
}

static const sqlite3_module rows_module = {
	.iVersion = 0,
	.xConnect = rows_connect,
	.xBestIndex = rows_best_index,
	.xDisconnect = rows_disconnect,
	.xOpen = rows_open,
	.xClose = rows_close,
	.xFilter = rows_filter,
	.xNext = rows_next,
	.xEof = rows_eof,
	.xColumn = rows_column,
	.xRowid = rows_rowid,
};

int sqlite_rows_register(sqlite3 *db)
{
	return sqlite3_create_module(db, "mandi_rows", &rows_module, NULL);
}
