/* `image ls --json`: the store's listing as JSON. */
#ifndef WARMRUN_STORE_JSON_H
#define WARMRUN_STORE_JSON_H

#include "store_write.h"

/* A malloc'd JSON array, one object per image: {"name", "tag", "id" (null
 * for an invalid manifest), "created" (or null), "layers", "size" (bytes of
 * the layers' regular files, 0 if unknown)}. NULL: out of memory. */
char *wr_store_list_json(const struct wr_store_entry *e, size_t n);

#endif
