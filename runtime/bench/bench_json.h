/* JSON output of the benches (jansson stays in the bench's report files). */
#ifndef WARMRUN_BENCH_JSON_H
#define WARMRUN_BENCH_JSON_H

#include "bench_startup.h"

#include <jansson.h>

json_t *bench_startup_to_json(const struct bench_startup_result *r);
/* Writes FILE.tmp and renames it: FILE is never half-written. */
int bench_write_json(json_t *root, const char *path, wr_error *err);

#endif
