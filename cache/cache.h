/*
 * cache - the screening cache (postscreen's temporary allowlist).
 *
 * One record per client IP holds, for each test, the time until which
 * a pass stays valid.  Two back ends sit behind one interface: an LMDB
 * file on this host (the default, "lmdb:PATH") and Redis shared by the
 * several MX hosts of a site ("redis:HOST:PORT").  Neither ever blocks
 * the event loop on the network or on fsync per client: LMDB writes go
 * out in batches, Redis requests are asynchronous with a deadline, and a
 * slow or dead Redis simply reads as a miss.
 *
 * Every function accepts a NULL struct cache (no cache configured): a
 * lookup then misses at once, an update is a no-op.
 *
 * How the screen uses it (postscreen's rules, reference §3):
 *   at start-up  c = cache_open(loop, conf, &err); NULL with err.reason
 *                set is a config error (exit 1, err.file:err.line);
 *                SIGPIPE must be ignored (Redis socket writes).
 *   on connect   when the client has no other session in the screen:
 *                req = cache_lookup(c, ip, cb, sess), keeping req to
 *                cache_cancel() it if the client leaves first (req may
 *                be NULL: cb already ran).  In cb: found and
 *                cache_due_mask(rec, enabled, now) == 0 -> PASS OLD;
 *                otherwise run the due tests, starting from rec (or from
 *                cache_record_init(&rec, enabled) when not found);
 *                cache_record_is_new() -> the pass will be PASS NEW.
 *   at the end   if some test passed and none failed: set
 *                rec.expiry[test] = now + ttl for each test that passed
 *                and cache_update(c, ip, &rec).
 *   on reload    cache_set_enabled(c, cache_enabled_from_conf(conf)), or
 *                close and reopen when screen_cache_map changed.
 *   on exit      cache_close(c).
 */
#ifndef DOORMAN_CACHE_H
#define DOORMAN_CACHE_H

#include <stddef.h>
#include <time.h>

#include "conf/conf.h"

struct ev_loop;

/* The tests whose passes are cached, in postscreen's record order. */
enum cache_test {
	CACHE_PREGREET,
	CACHE_DNSBL,
	CACHE_PIPELINING,
	CACHE_NON_SMTP,
	CACHE_BARE_NEWLINE,
	CACHE_NTESTS
};

/* Bit of a test in an "enabled" mask. */
#define CACHE_BIT(t)	(1u << (t))
#define CACHE_ALL_TESTS	((1u << CACHE_NTESTS) - 1)

/* Special expiry values, as postscreen's. */
#define CACHE_NEW	((time_t)0)	/* never passed */
#define CACHE_DISABLED	((time_t)1)	/* never passed, disabled when written */

/*
 * The record: per test, the unix time until which its pass holds.
 * 0 = never passed; 1 = never passed and the test was disabled when the
 * record was written.
 */
struct cache_record {
	time_t	expiry[CACHE_NTESTS];
};

/* Longest key (an IP address as printed) and encoded record we accept. */
#define CACHE_KEY_MAX		63
#define CACHE_RECORD_MAX	128

/*
 * Record text is postscreen's "P;D;I;N;B" (decimal unix times).
 * encode: the length written (without the NUL), -1 if len is too small.
 * decode: a missing or garbled field reads as 1 (CACHE_DISABLED); the
 * return value is 0 when the text looks like a record and -1 when it is
 * garbage (empty, too long, bytes other than digits and ';'), in which
 * case every field is 1 and the back ends drop the entry as corrupt.
 */
int	cache_record_encode(const struct cache_record *, char *buf, size_t len);
int	cache_record_decode(const char *text, size_t len, struct cache_record *);

/* A fresh record: enabled tests 0 (new), disabled ones 1. */
void	cache_record_init(struct cache_record *, unsigned enabled_mask);

/* Due: the test is enabled and now > its expiry. */
int	cache_test_due(const struct cache_record *, enum cache_test, int enabled, time_t now);
/* Mask of the enabled tests that are due; 0 means PASS OLD. */
unsigned cache_due_mask(const struct cache_record *, unsigned enabled_mask, time_t now);
/* Some enabled test has never passed (expiry 0): the client is NEW. */
int	cache_record_is_new(const struct cache_record *, unsigned enabled_mask);
/* Latest real expiry in the record (0 if none). */
time_t	cache_record_max_expiry(const struct cache_record *);

/*
 * Cleanup rule (postscreen's): drop an entry when some enabled test
 * would already be due at now - retention.
 */
int	cache_cleanup_drop(const struct cache_record *, unsigned enabled_mask,
	    time_t now, long retention);

/*
 * Enabled tests from the config: screen_greet_banner non-empty ->
 * pregreet, screen_dnsbl_sites non-empty -> dnsbl, and
 * screen_{pipelining,non_smtp_command,bare_newline}_enable.
 */
unsigned cache_enabled_from_conf(struct conf *);

struct cache;
struct cache_req;

/*
 * Lookup result: found = 1 and the record, or found = 0 and NULL (not
 * in the cache, or the back end was slow, down or gave garbage).  The
 * record pointer is valid only during the call.
 */
typedef void cache_lookup_fn(void *arg, int found, const struct cache_record *);

/*
 * Open the cache named by screen_cache_map:
 *   lmdb:PATH            file PATH.lmdb (+ PATH.lmdb-lock), as Postfix's
 *                        lmdb: tables; btree:PATH and hash:PATH are
 *                        accepted as aliases (logged once)
 *   redis:HOST:PORT      numeric IPv4 host, or [IPv6]:PORT
 *   redis:unix:/path     a unix socket
 * Redis options follow a '?', separated by '&':
 *   password=SECRET  AUTH after connecting
 *   db=N             SELECT N
 *   prefix=TEXT      key prefix (default "doorman:"; may be empty)
 *   timeout=DUR      per-request deadline (default 250ms; "ms" or "s")
 * e.g. redis:10.0.0.5:6379?password=s3cret&prefix=mx:
 *
 * Also read: screen_cache_cleanup_interval, screen_cache_retention_time,
 * lmdb_map_size (if the config knows it) and the enabled tests.
 *
 * Returns NULL with err->reason empty when screen_cache_map is empty (no
 * cache), NULL with err filled (file, line of screen_cache_map, reason)
 * on a bad path or address.  The LMDB file is created if missing; a
 * Redis that is down at start-up is not an error (it is retried).
 */
struct cache *cache_open(struct ev_loop *, struct conf *, struct conf_err *);
/* The same with an explicit map spec (tests, doorman check). */
struct cache *cache_open_spec(struct ev_loop *, struct conf *, const char *spec,
	    struct conf_err *);

/*
 * Look up a client IP.  The callback may run before cache_lookup returns
 * (always so for LMDB, and for Redis while it is disconnected); then the
 * return value is NULL.  Otherwise it runs later from the loop, exactly
 * once, within the request timeout, unless cache_cancel() is called
 * first.  Never calls back with found = 1 for a key that is not an IP
 * text of at most CACHE_KEY_MAX bytes.
 */
struct cache_req *cache_lookup(struct cache *, const char *ip, cache_lookup_fn *cb, void *arg);
/* Forget a pending lookup: its callback will not run.  NULL is fine. */
void	cache_cancel(struct cache_req *);

/*
 * Store a client's record (at session end when something passed and
 * nothing failed).  LMDB: into the pending batch, visible to lookups at
 * once, written within a second; Redis: SET key value EX ttl with
 * ttl = latest expiry - now + retention time.  Never blocks.
 */
void	cache_update(struct cache *, const char *ip, const struct cache_record *);

/* Change the enabled tests (config reload); used by the cleanup rule. */
void	cache_set_enabled(struct cache *, unsigned enabled_mask);

/* Write out the pending batch now (LMDB); no-op for Redis. */
void	cache_flush(struct cache *);

/*
 * Number of entries: LMDB exact (file plus pending batch, approximately);
 * Redis the DBSIZE of its database, refreshed every 30s (0 until known).
 */
size_t	cache_size(struct cache *);

/* "lmdb:/var/lib/doorman/screen_cache" as given (aliases rewritten). */
const char *cache_name(const struct cache *);

/* Flush the batch, log a cut-short cleanup as partial, free everything. */
void	cache_close(struct cache *);

#endif
