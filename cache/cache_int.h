/*
 * cache_int - what the back ends of cache/ share and the screen never
 * sees: the operations table behind struct cache, the parsed options of
 * the map spec, and the rate-limited warning.
 */
#ifndef DOORMAN_CACHE_INT_H
#define DOORMAN_CACHE_INT_H

#include <ev.h>

#include "cache/cache.h"

struct cache_ops {
	struct cache_req *(*lookup)(struct cache *, const char *ip, cache_lookup_fn *, void *);
	void	(*update)(struct cache *, const char *ip, const struct cache_record *);
	void	(*flush)(struct cache *);
	size_t	(*size)(struct cache *);
	void	(*close)(struct cache *);
};

/* The common head of every back end's handle. */
struct cache {
	const struct cache_ops *ops;
	struct ev_loop *loop;
	char	name[1100];		/* "lmdb:/path" for log lines */
	unsigned enabled;		/* CACHE_BIT mask */
	long	cleanup_interval;	/* seconds, 0 = never */
	long	retention;		/* seconds */
	ev_tstamp last_warn;		/* rate limit for warnings */
	unsigned suppressed;		/* warnings not logged since */
};

/* Every lookup request starts with this, so cache_cancel can dispatch. */
struct cache_req {
	void	(*cancel)(struct cache_req *);
};

/* Back ends: NULL and *why (static text or why_buf) on error. */
struct cache *cache_lmdb_open(struct ev_loop *, struct conf *, const char *path,
	    char *why, size_t whylen);
struct cache *cache_redis_open(struct ev_loop *, struct conf *, const char *addr,
	    char *why, size_t whylen);

/* Initialise the common part (enabled tests, cleanup times). */
void	cache_common_init(struct cache *, const struct cache_ops *,
	    struct ev_loop *, struct conf *, const char *name);

/* "warning: ..." at most once a minute per cache. */
void	cache_warn_limited(struct cache *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* Is this text acceptable as a key (printable, no blanks, bounded)? */
int	cache_key_ok(const char *ip);

#endif
