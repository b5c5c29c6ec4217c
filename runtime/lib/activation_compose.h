/* Turns an activate request plus the image's config into the activation
 * message, the way `docker run` applies image defaults. */
#ifndef WARMRUN_ACTIVATION_COMPOSE_H
#define WARMRUN_ACTIVATION_COMPOSE_H

#include "error.h"
#include "image_store.h"
#include "protocol.h"

#include <sys/types.h>

/* argv: the image's Entrypoint followed by the request's command, or by the
 * image's Cmd when the request has none. Environment, later wins: PATH and
 * HOSTNAME defaults, then the image's Env, then the request's. HOME is not
 * set here: the container adds the user's own (from the image's
 * /etc/passwd) when none or an empty one is given (security_setup.c).
 * Working directory: the request's, else the image's. Returns the message
 * length or -1. */
ssize_t wr_activation_compose(const struct wr_image *img, const struct wr_request *req,
                              const char *container_id, char *buf, size_t cap, wr_error *err);
/* The same, with a pool's environment defaults (pool_env, NULL-terminated,
 * may be NULL) layered above the built-in defaults and below the image's Env. */
ssize_t wr_activation_compose_env(const struct wr_image *img, const struct wr_request *req,
                                  char *const *pool_env, const char *container_id, char *buf,
                                  size_t cap, wr_error *err);
/* wr_activation_compose_env into buf (cap bytes: the caller's static
 * buffer, the common case) or, when it does not fit there, into a buffer of
 * WR_ACTIVATION_BIG_MAX bytes malloc'd into *heap (the caller frees it;
 * NULL otherwise). *out: where the message is. Returns its length or -1
 * (E2BIG: the kernel could not execve it). */
ssize_t wr_activation_compose_any(const struct wr_image *img, const struct wr_request *req,
                                  char *const *pool_env, const char *container_id, char *buf,
                                  size_t cap, char **heap, const char **out, wr_error *err);

#endif
