/*
 * Wiring between the layers that main.c starts: hooks the server calls,
 * background jobs, and commands that belong to later areas.
 */
#ifndef MANDI_APP_H
#define MANDI_APP_H
#include <stdbool.h>
#include <stdint.h>

struct db;

/** Install server hooks and start background work (before server_run). */
void app_start(void);
/** Stop background work (after server_run). */
void app_stop(void);
/** `mandi seed --demo`: a realistic catalog of n products. */
bool app_seed_demo(struct db *db, int64_t n);
/** `mandi import-feed FILE --merchant CODE`. */
int app_cmd_import_feed(int argc, char **argv);
/** `mandi jobs run-once [--at TIME] [--job NAME]`. */
int app_cmd_jobs(int argc, char **argv);

#endif
