/*
 * mandi_rank(product_fts, w0, w1, …): relevance of an FTS5 match, higher is
 * better. It is BM25 with per-column weights w (BM25F's weighted term
 * frequency) and no document-length normalisation (b = 0):
 *
 *   score = Σ over query phrases p of idf(p) · T(p) · (k1 + 1) / (T(p) + k1)
 *   T(p)  = Σ over columns c of w[c] · occurrences of p in column c
 *   idf(p) = ln((N − n(p) + 0.5) / (n(p) + 0.5)), at least 1e-6
 *
 * with N rows in the table and n(p) of them holding p. FTS5's built-in
 * bm25() also divides by the row's length against the average, and reading
 * that length (a lookup in the table's docsize B-tree per row) was most of a
 * broad search's cost: about 1.2 µs of the 1.5 µs per match. The occurrence
 * counts come from the position lists the match has already loaded. Product
 * documents are short and alike in length (a name, a brand, a few tags, a
 * templated description), so the normalisation added little.
 *
 * idf only weighs the phrases against one another, so a one-phrase query
 * skips it (idf = 1: the same order) and does not count its matches twice;
 * with more phrases each is counted once per query (xQueryPhrase), as bm25()
 * does. The SQLite amalgamation's sqlite3.h declares the FTS5 API
 * (Fts5ExtensionApi, fts5_api).
 */
#include "db/sqlite_rank.h"

#include <math.h>
#include <stddef.h>

#define K1 1.2
#define MAX_COLS 16

/* What every row of one query shares, kept as the function's aux data. */
struct rank_query {
	int nphrase, ncol;
	double w[MAX_COLS];
	double idf[]; /* nphrase */
};

static int count_row(const Fts5ExtensionApi *api, Fts5Context *f, void *user)
{
	(void)api;
	(void)f;
	++*(sqlite3_int64 *)user;
	return SQLITE_OK;
}

/* The per-query part: weights from the arguments, idf per phrase. */
static int query_setup(const Fts5ExtensionApi *api, Fts5Context *f, int nval, sqlite3_value **val,
		       struct rank_query **out)
{
	int np = api->xPhraseCount(f);
	struct rank_query *q = sqlite3_malloc64(sizeof(*q) + sizeof(double) * (size_t)(np > 0 ? np : 1));
	if (!q)
		return SQLITE_NOMEM;
	q->nphrase = np;
	q->ncol = api->xColumnCount(f);
	if (q->ncol > MAX_COLS)
		q->ncol = MAX_COLS;
	for (int c = 0; c < q->ncol; c++)
		q->w[c] = c < nval ? sqlite3_value_double(val[c]) : 1.0;
	int rc = SQLITE_OK;
	sqlite3_int64 rows = 0;
	if (np > 1)
		rc = api->xRowCount(f, &rows);
	for (int p = 0; p < np && rc == SQLITE_OK; p++) {
		sqlite3_int64 hits = 0;
		q->idf[p] = 1.0;
		if (np == 1 || (rc = api->xQueryPhrase(f, p, &hits, count_row)) != SQLITE_OK)
			continue;
		double idf = log((double)(rows - hits) + 0.5) - log((double)hits + 0.5);
		q->idf[p] = idf > 1e-6 ? idf : 1e-6;
	}
	if (rc == SQLITE_OK)
		rc = api->xSetAuxdata(f, q, sqlite3_free); /* frees q itself on failure */
	else
		sqlite3_free(q);
	if (rc == SQLITE_OK)
		*out = q;
	return rc;
}

static void mandi_rank(const Fts5ExtensionApi *api, Fts5Context *f, sqlite3_context *ctx, int nval,
		       sqlite3_value **val)
{
	struct rank_query *q = api->xGetAuxdata(f, 0);
	int rc = SQLITE_OK;
	if (!q && (rc = query_setup(api, f, nval, val, &q)) != SQLITE_OK) {
		sqlite3_result_error_code(ctx, rc);
		return;
	}
	double score = 0;
	for (int p = 0; p < q->nphrase; p++) {
		Fts5PhraseIter it;
		int col, off;
		double t = 0;
		if ((rc = api->xPhraseFirst(f, p, &it, &col, &off)) != SQLITE_OK) {
			sqlite3_result_error_code(ctx, rc);
			return;
		}
		for (; col >= 0; api->xPhraseNext(f, &it, &col, &off))
			t += col < q->ncol ? q->w[col] : 1.0;
		score += q->idf[p] * t * (K1 + 1) / (t + K1);
	}
	sqlite3_result_double(ctx, score);
}

int sqlite_rank_register(sqlite3 *db)
{
	/* the documented way to reach the FTS5 API of a connection */
	fts5_api *fts = NULL;
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_pointer(st, 1, (void *)&fts, "fts5_api_ptr", NULL);
	sqlite3_step(st);
	rc = sqlite3_finalize(st);
	if (rc != SQLITE_OK)
		return rc;
	if (!fts || fts->iVersion < 2)
		return SQLITE_ERROR;
	return fts->xCreateFunction(fts, "mandi_rank", NULL, mandi_rank, NULL);
}
