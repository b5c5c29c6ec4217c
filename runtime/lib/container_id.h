/* Container ids: WR_ID_LEN lowercase hex characters from getrandom(), as
 * the spawner of a shim makes them; what the API, the state records and
 * the cgroup sweep accept as an id. */
#ifndef WARMRUN_CONTAINER_ID_H
#define WARMRUN_CONTAINER_ID_H

#include "error.h"

#include <stdbool.h>

#define WR_ID_LEN 12 /* hex characters of a container id */

/* A new id in out (WR_ID_LEN + 1 bytes). Errors: getrandom's. */
int wr_container_id_new(char out[WR_ID_LEN + 1], wr_error *err);

/* 1 to WR_ID_LEN lowercase hex characters: an id or a prefix of one (a
 * file name that is not one is never taken for a container's). */
bool wr_container_id_valid(const char *id);

#endif
