/*
 * Request metrics: per route pattern (not raw path) a latency histogram,
 * counts and errors, kept in process in relaxed atomics (a handful of
 * uncontended increments per request), flushed as per-minute deltas to
 * performance_metrics, and rendered in Prometheus text format.
 *
 * Latency buckets are log-linear: four per power of two from 16 µs, so a
 * percentile read from the histogram is within one bucket (≤ 19 %) of the
 * true value, interpolated inside the bucket.
 */
#ifndef MANDI_METRICS_H
#define MANDI_METRICS_H
#include <stdbool.h>
#include <stdint.h>

#include "cache/cache.h"

#include "core/buf.h"

struct db;

#define METRICS_BUCKETS 93 /**< bucket 0: < 16 µs; last: ≥ 2^27 µs */

/** Record one request: route pattern (NULL: unmatched), status and duration. */
void metrics_observe(const char *method, const char *pattern, int status, int64_t us);
/** Bucket index for a duration in microseconds. */
int metrics_bucket(int64_t us);
/** Upper bound (exclusive) of bucket b in microseconds. */
int64_t metrics_bucket_upper(int b);
/** Lower bound of bucket b in microseconds. */
int64_t metrics_bucket_lower(int b);
/** The q-quantile (0..1) in microseconds of a histogram with total n. */
double metrics_quantile_us(const int64_t hist[METRICS_BUCKETS], int64_t n, double q);
/** Sparse text form "b:n,b:n" of a histogram, and back (adds into hist). */
void metrics_hist_encode(struct buf *b, const int64_t hist[METRICS_BUCKETS]);
bool metrics_hist_add(int64_t hist[METRICS_BUCKETS], const char *text);

/**
 * Write the deltas since the last flush as rows of performance_metrics for
 * the minute containing `now`, and this process' cache counters to
 * cache_metrics. Serialised internally; on a database error the deltas are
 * kept for the next flush. Returns false on error.
 */
bool metrics_flush(struct db *db, int64_t now);
/**
 * Flush this process and, with a shared cache backend (several instances
 * behind a load balancer), have every live instance flush too, waiting at
 * most 3 s; *cluster says whether every instance did (the rows then hold
 * every request so far). False only when this process could not flush.
 */
bool metrics_flush_cluster(struct db *db, int64_t now, bool *cluster);
/** Per-second server hook: flush when a reader asked every instance to
 * (metrics_flush_cluster), and keep this instance's heartbeat. */
void metrics_sync_tick(void);
/** Hits, misses and evictions per named cache summed over every instance's
 * flushed rows (entries and bytes: this process's). Returns the count or -1. */
int metrics_cache_totals(struct db *db, struct cache_stats *out, int max);
/** Flush when a minute has passed since the last flush (server tick). */
void metrics_tick(void);

/** Append this process' counters in Prometheus text exposition format. */
void metrics_prometheus(struct buf *b);

/** Failed database connection attempts counted by this process (alerts). */
void metrics_note_db_failure(void);

#endif
