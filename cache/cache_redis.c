/*
 * cache_redis - the shared back end: one Redis server for the several MX
 * hosts of a site, reached with hiredis' asynchronous API on the screen's
 * libev loop.
 *
 * The screen must never wait for Redis.  Every lookup carries its own
 * ev_timer deadline (hiredis 0.14 has no command timeout); a lookup that
 * misses it is answered as a miss, and the connection, now suspect, is
 * dropped and re-opened with back-off.  While the connection is not
 * known to be healthy (a PING answered), lookups miss at once and updates
 * are dropped.  Warnings are logged at most once a minute.  Entries carry
 * Redis TTLs, so there is no cleanup pass.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libev.h>
#include <utlist.h>

#include "cache/cache_int.h"
#include "conf/log.h"

#define TIMEOUT_DFLT	0.25		/* seconds per request */
#define BACKOFF_MIN	0.5		/* first reconnect delay */
#define BACKOFF_MAX	16.0		/* longest reconnect delay */
#define CONNECT_LIMIT	2.0		/* connect + AUTH + PING must finish by then */
#define DBSIZE_EVERY	5.0		/* refresh of cache_size() */
#define DBSIZE_AFTER_SET 1.0		/* ... and this soon after our own writes */
#define INFLIGHT_MAX	100000		/* replies owed before we call it stuck */
#define PREFIX_DFLT	"doorman:"

enum rstate { R_DOWN, R_CONNECTING, R_UP };

struct redis_cache {
	struct cache base;
	int	is_unix;
	char	host[1024];		/* numeric address, or the socket path */
	int	port;
	char	password[256];
	int	db;			/* -1: no SELECT */
	char	prefix[101];
	double	timeout;

	redisAsyncContext *ac;		/* current connection, NULL when down */
	enum rstate state;
	double	backoff;
	int	warned;			/* a problem was reported; say when it ends */
	ev_timer reconnect_timer;
	ev_timer connect_timer;		/* deadline of the CONNECTING state */
	ev_timer dbsize_timer;
	size_t	dbsize;
	ev_prepare flush_prep;		/* sends this loop pass's commands */
	int	unflushed;		/* commands queued since */

	unsigned long inflight;		/* hiredis callbacks still owed to us */
	int	in_cb;			/* inside one of them: do not free rc */
	struct rreq *reqs;		/* lookups the user still waits for */
	int	closed, in_close;
};

struct rreq {
	struct cache_req base;		/* first: cache_cancel dispatches on it */
	struct redis_cache *rc;
	cache_lookup_fn *cb;
	void	*arg;
	ev_timer timer;
	int	user_done;		/* callback delivered or cancelled */
	int	in_hiredis;		/* hiredis still holds it as privdata */
	char	key[CACHE_KEY_MAX + 1];
	struct rreq *prev, *next;
};

static void redis_connect(struct redis_cache *);

static void
rc_maybe_free(struct redis_cache *rc)
{
	if (rc->closed && !rc->in_close && rc->in_cb == 0 && rc->inflight == 0)
		free(rc);
}

static void
req_maybe_free(struct rreq *req)
{
	if (req->user_done && !req->in_hiredis)
		free(req);
}

/* The user is answered (or gave up): no more callback, timer off. */
static void
req_detach(struct rreq *req)
{
	struct redis_cache *rc = req->rc;

	req->user_done = 1;
	ev_timer_stop(rc->base.loop, &req->timer);
	DL_DELETE(rc->reqs, req);
}

static void
schedule_reconnect(struct redis_cache *rc)
{
	if (rc->closed)
		return;
	ev_timer_stop(rc->base.loop, &rc->connect_timer);
	ev_timer_stop(rc->base.loop, &rc->reconnect_timer);
	ev_timer_set(&rc->reconnect_timer, rc->backoff, 0.);
	ev_timer_start(rc->base.loop, &rc->reconnect_timer);
	rc->backoff *= 2;
	if (rc->backoff > BACKOFF_MAX)
		rc->backoff = BACKOFF_MAX;
}

/*
 * Give up the current connection.  Its owed callbacks run with a NULL
 * reply (now, or when hiredis leaves the callback it is in).
 */
static void
drop_connection(struct redis_cache *rc, const char *why)
{
	redisAsyncContext *old = rc->ac;

	rc->ac = NULL;
	rc->state = R_DOWN;
	if (why != NULL) {
		cache_warn_limited(&rc->base, "cache %s: %s; lookups count as misses until it answers again",
		    rc->base.name, why);
		rc->warned = 1;
	}
	if (old != NULL) {
		old->onConnect = NULL;
		old->onDisconnect = NULL;
		redisAsyncFree(old);
	}
	schedule_reconnect(rc);
}

/*
 * Every command's reply passes through owed() first (hiredis owes one
 * less) and done() last, so that a user callback that closes the cache
 * cannot free it under our feet.
 */
static struct redis_cache *
owed(redisAsyncContext *ac)
{
	struct redis_cache *rc = ac->data;

	rc->inflight--;
	rc->in_cb++;
	return rc;
}

static void
done(struct redis_cache *rc)
{
	rc->in_cb--;
	rc_maybe_free(rc);
}

static void
void_cb(redisAsyncContext *ac, void *r, void *privdata)
{
	struct redis_cache *rc = owed(ac);
	redisReply *reply = r;

	(void)privdata;
	if (reply != NULL && reply->type == REDIS_REPLY_ERROR && ac == rc->ac && !rc->closed)
		cache_warn_limited(&rc->base, "cache %s: %.*s", rc->base.name,
		    (int)(reply->len > 200 ? 200 : reply->len), reply->str);
	done(rc);
}

static void
dbsize_cb(redisAsyncContext *ac, void *r, void *privdata)
{
	struct redis_cache *rc = owed(ac);
	redisReply *reply = r;

	(void)privdata;
	if (reply != NULL && reply->type == REDIS_REPLY_INTEGER && reply->integer >= 0)
		rc->dbsize = (size_t)reply->integer;
	done(rc);
}

static void
send_dbsize(struct redis_cache *rc)
{
	if (rc->state == R_UP
	    && redisAsyncCommand(rc->ac, dbsize_cb, NULL, "DBSIZE") == REDIS_OK)
		rc->inflight++;
}

static void
ping_cb(redisAsyncContext *ac, void *r, void *privdata)
{
	struct redis_cache *rc = owed(ac);
	redisReply *reply = r;
	char	why[300];

	(void)privdata;
	if (ac == rc->ac && !rc->closed && rc->state == R_CONNECTING) {
		if (reply != NULL && reply->type == REDIS_REPLY_STATUS) {
			rc->state = R_UP;
			rc->backoff = BACKOFF_MIN;
			ev_timer_stop(rc->base.loop, &rc->connect_timer);
			if (rc->warned)
				msg_info("cache %s: connected again", rc->base.name);
			rc->warned = 0;
			send_dbsize(rc);
		} else {
			snprintf(why, sizeof(why), "PING: %.*s",
			    reply != NULL && reply->type == REDIS_REPLY_ERROR ?
			    (int)(reply->len > 200 ? 200 : reply->len) : 9,
			    reply != NULL && reply->type == REDIS_REPLY_ERROR ?
			    reply->str : "no answer");
			drop_connection(rc, why);
		}
	}
	done(rc);
}

static void
connect_cb(const redisAsyncContext *cac, int status)
{
	redisAsyncContext *ac = (redisAsyncContext *)cac;
	struct redis_cache *rc = ac->data;
	char	why[300];

	if (status == REDIS_OK || ac != rc->ac)
		return;
	/* hiredis frees this context when we return. */
	snprintf(why, sizeof(why), "connect: %s", ac->errstr);
	rc->ac = NULL;
	ac->onDisconnect = NULL;
	drop_connection(rc, why);
}

static void
disconnect_cb(const redisAsyncContext *cac, int status)
{
	redisAsyncContext *ac = (redisAsyncContext *)cac;
	struct redis_cache *rc = ac->data;
	char	why[300];

	(void)status;
	if (ac != rc->ac)
		return;
	snprintf(why, sizeof(why), "connection lost: %s",
	    ac->err ? ac->errstr : "closed by server");
	rc->ac = NULL;
	drop_connection(rc, why);
}

static void
reconnect_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	redis_connect(w->data);
}

static void
connect_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct redis_cache *rc = w->data;

	(void)loop;
	(void)revents;
	if (rc->state == R_CONNECTING)
		drop_connection(rc, "no answer to connect and PING");
}

static void
dbsize_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	send_dbsize(w->data);
}

/* Open a connection; its PING answer makes it usable. */
static void
redis_connect(struct redis_cache *rc)
{
	redisAsyncContext *ac;
	char	why[300];
	int	fl;

	if (rc->closed || rc->ac != NULL)
		return;
	ac = rc->is_unix ? redisAsyncConnectUnix(rc->host) :
	    redisAsyncConnect(rc->host, rc->port);
	if (ac == NULL || ac->err) {
		snprintf(why, sizeof(why), "connect: %s", ac ? ac->errstr : "out of memory");
		if (ac != NULL)
			redisAsyncFree(ac);
		drop_connection(rc, why);
		return;
	}
	ac->data = rc;
	if ((fl = fcntl(ac->c.fd, F_GETFD)) >= 0)
		(void)fcntl(ac->c.fd, F_SETFD, fl | FD_CLOEXEC);
	if (redisLibevAttach(rc->base.loop, ac) != REDIS_OK) {
		redisAsyncFree(ac);
		drop_connection(rc, "cannot attach to the event loop");
		return;
	}
	redisAsyncSetConnectCallback(ac, connect_cb);
	redisAsyncSetDisconnectCallback(ac, disconnect_cb);
	rc->ac = ac;
	rc->state = R_CONNECTING;
	/* Queued now, sent in this order once the socket connects. */
	if (rc->password[0] != '\0'
	    && redisAsyncCommand(ac, void_cb, NULL, "AUTH %s", rc->password) == REDIS_OK)
		rc->inflight++;
	if (rc->db >= 0
	    && redisAsyncCommand(ac, void_cb, NULL, "SELECT %d", rc->db) == REDIS_OK)
		rc->inflight++;
	if (redisAsyncCommand(ac, ping_cb, NULL, "PING") == REDIS_OK)
		rc->inflight++;
	ev_timer_set(&rc->connect_timer, CONNECT_LIMIT > rc->timeout * 4 ?
	    CONNECT_LIMIT : rc->timeout * 4, 0.);
	ev_timer_start(rc->base.loop, &rc->connect_timer);
}

/*
 * Lookups.
 */
static void
get_cb(redisAsyncContext *ac, void *r, void *privdata)
{
	struct redis_cache *rc = owed(ac);
	struct rreq *req = privdata;
	struct cache_record rec;
	redisReply *reply = r;
	cache_lookup_fn *cb;
	void	*arg;
	int	found = 0;
	char	key[sizeof(rc->prefix) + CACHE_KEY_MAX + 1], esc[200];

	req->in_hiredis = 0;
	if (!req->user_done) {
		cb = req->cb;
		arg = req->arg;
		req_detach(req);
		if (reply == NULL || reply->type == REDIS_REPLY_NIL) {
			;
		} else if (reply->type == REDIS_REPLY_STRING) {
			if (cache_record_decode(reply->str, reply->len, &rec) == 0) {
				found = 1;
			} else {
				msg_warn("cache %s: dropping corrupt entry \"%s\"", rc->base.name,
				    log_escape(req->key, strlen(req->key), 60, esc, sizeof(esc)));
				snprintf(key, sizeof(key), "%s%s", rc->prefix, req->key);
				if (rc->state == R_UP && ac == rc->ac
				    && redisAsyncCommand(ac, void_cb, NULL, "DEL %s", key) == REDIS_OK)
					rc->inflight++;
			}
		} else if (reply->type == REDIS_REPLY_ERROR) {
			cache_warn_limited(&rc->base, "cache %s: GET: %.*s", rc->base.name,
			    (int)(reply->len > 200 ? 200 : reply->len), reply->str);
		}
		cb(arg, found, found ? &rec : NULL);
	}
	req_maybe_free(req);
	done(rc);
}

static void
req_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct rreq *req = w->data;
	struct redis_cache *rc = req->rc;
	cache_lookup_fn *cb = req->cb;
	void	*arg = req->arg;
	char	why[100];

	(void)loop;
	(void)revents;
	req_detach(req);
	/* A server that misses a deadline is not trusted with the next one. */
	snprintf(why, sizeof(why), "no answer within %gs", rc->timeout);
	if (rc->state != R_DOWN)
		drop_connection(rc, why);
	/* The drop may already have freed req; only the saved copies remain. */
	cb(arg, 0, NULL);
}

static void
req_cancel(struct cache_req *base)
{
	struct rreq *req = (struct rreq *)base;

	if (req->user_done)
		return;
	req_detach(req);
	req_maybe_free(req);
}

static struct cache_req *
redis_lookup(struct cache *c, const char *ip, cache_lookup_fn *cb, void *arg)
{
	struct redis_cache *rc = (struct redis_cache *)c;
	struct rreq *req;

	if (rc->state != R_UP || rc->inflight >= INFLIGHT_MAX
	    || (req = calloc(1, sizeof(*req))) == NULL) {
		cb(arg, 0, NULL);
		return NULL;
	}
	req->base.cancel = req_cancel;
	req->rc = rc;
	req->cb = cb;
	req->arg = arg;
	snprintf(req->key, sizeof(req->key), "%s", ip);
	if (redisAsyncCommand(rc->ac, get_cb, req, "GET %s%s", rc->prefix, ip) != REDIS_OK) {
		free(req);
		cb(arg, 0, NULL);
		return NULL;
	}
	rc->inflight++;
	rc->unflushed = 1;
	req->in_hiredis = 1;
	ev_timer_init(&req->timer, req_timeout_cb, rc->timeout, 0.);
	req->timer.data = req;
	ev_timer_start(c->loop, &req->timer);
	DL_APPEND(rc->reqs, req);
	return &req->base;
}

static void
redis_update(struct cache *c, const char *ip, const struct cache_record *rec)
{
	struct redis_cache *rc = (struct redis_cache *)c;
	char	val[CACHE_RECORD_MAX];
	time_t	max = cache_record_max_expiry(rec);
	long long ttl;

	if (max == 0)
		return;			/* nothing passed: nothing to remember */
	if (rc->state != R_UP || rc->inflight >= INFLIGHT_MAX) {
		cache_warn_limited(c, "cache %s: not connected; update for %s dropped",
		    c->name, ip);
		return;
	}
	if (cache_record_encode(rec, val, sizeof(val)) < 0)
		return;
	ttl = (long long)max - (long long)ev_now(c->loop) + c->retention;
	if (ttl < 1)
		ttl = 1;
	if (redisAsyncCommand(rc->ac, void_cb, NULL, "SET %s%s %s EX %lld",
	    rc->prefix, ip, val, ttl) == REDIS_OK) {
		rc->inflight++;
		rc->unflushed = 1;
	}
	/* status then shows the new entry within a second, at one DBSIZE a second at most. */
	if (ev_is_active(&rc->dbsize_timer) &&
	    ev_timer_remaining(c->loop, &rc->dbsize_timer) > DBSIZE_AFTER_SET) {
		ev_timer_stop(c->loop, &rc->dbsize_timer);
		ev_timer_set(&rc->dbsize_timer, DBSIZE_AFTER_SET, DBSIZE_EVERY);
		ev_timer_start(c->loop, &rc->dbsize_timer);
	}
}

/*
 * Before the loop sleeps: write the commands of this pass at once, in
 * one write, rather than in the next pass when hiredis's write watcher
 * fires.  A lookup costs one loop pass less, and the loop's rate with it.
 */
static void
flush_prep_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct redis_cache *rc = w->data;

	(void)loop;
	(void)revents;
	if (rc->unflushed && rc->ac != NULL && rc->state == R_UP) {
		rc->unflushed = 0;
		redisAsyncHandleWrite(rc->ac);
	}
}

static size_t
redis_size(struct cache *c)
{
	return ((struct redis_cache *)c)->dbsize;
}

static void
redis_close(struct cache *c)
{
	struct redis_cache *rc = (struct redis_cache *)c;
	struct rreq *req, *tmp;
	redisAsyncContext *old = rc->ac;
	cache_lookup_fn *cb;
	void	*arg;

	rc->closed = 1;
	rc->in_close = 1;
	rc->state = R_DOWN;		/* lookups made from the callbacks below miss at once */
	ev_timer_stop(c->loop, &rc->reconnect_timer);
	ev_timer_stop(c->loop, &rc->connect_timer);
	ev_timer_stop(c->loop, &rc->dbsize_timer);
	ev_ref(c->loop);
	ev_prepare_stop(c->loop, &rc->flush_prep);
	/* Whoever still waits gets its miss now, not from a dead handle. */
	DL_FOREACH_SAFE(rc->reqs, req, tmp) {
		cb = req->cb;
		arg = req->arg;
		req_detach(req);
		cb(arg, 0, NULL);
	}
	rc->ac = NULL;
	rc->state = R_DOWN;
	if (old != NULL) {
		old->onConnect = NULL;
		old->onDisconnect = NULL;
		redisAsyncFree(old);
	}
	rc->in_close = 0;
	rc_maybe_free(rc);
}

static const struct cache_ops redis_ops = {
	redis_lookup, redis_update, NULL, redis_size, redis_close
};

/* "250ms", "1s", "0.5" (seconds); -1 on error. */
static double
parse_timeout(const char *s)
{
	char	*end;
	double	v = strtod(s, &end);

	if (end == s || v <= 0)
		return -1;
	if (strcmp(end, "ms") == 0)
		v /= 1000;
	else if (*end != '\0' && strcmp(end, "s") != 0)
		return -1;
	return v > 60 ? -1 : v;
}

static int
parse_options(struct redis_cache *rc, char *opts, char *why, size_t whylen)
{
	char	*item, *val, *save = NULL;
	long	db;

	for (item = strtok_r(opts, "&", &save); item != NULL;
	    item = strtok_r(NULL, "&", &save)) {
		if ((val = strchr(item, '=')) == NULL) {
			snprintf(why, whylen, "option \"%.50s\" lacks =value", item);
			return -1;
		}
		*val++ = '\0';
		if (strcmp(item, "password") == 0) {
			if (strlen(val) >= sizeof(rc->password) || strpbrk(val, " \t\r\n")) {
				snprintf(why, whylen, "bad password option");
				return -1;
			}
			snprintf(rc->password, sizeof(rc->password), "%s", val);
		} else if (strcmp(item, "prefix") == 0) {
			if (strlen(val) >= sizeof(rc->prefix) || strpbrk(val, " \t\r\n")) {
				snprintf(why, whylen, "bad prefix option (at most 100 bytes, no blanks)");
				return -1;
			}
			snprintf(rc->prefix, sizeof(rc->prefix), "%s", val);
		} else if (strcmp(item, "db") == 0) {
			db = strtol(val, &item, 10);
			if (*val == '\0' || *item != '\0' || db < 0 || db > 100000) {
				snprintf(why, whylen, "bad db option \"%.20s\"", val);
				return -1;
			}
			rc->db = (int)db;
		} else if (strcmp(item, "timeout") == 0) {
			if ((rc->timeout = parse_timeout(val)) < 0) {
				snprintf(why, whylen, "bad timeout option \"%.20s\" (e.g. 250ms, 1s)", val);
				return -1;
			}
		} else {
			snprintf(why, whylen, "unknown option \"%.50s\" (password, db, prefix, timeout)", item);
			return -1;
		}
	}
	return 0;
}

/* HOST:PORT, [V6]:PORT, localhost:PORT or unix:/path; numeric only. */
static int
parse_address(struct redis_cache *rc, char *addr, char *why, size_t whylen)
{
	unsigned char bin[16];
	const char *host;
	char	*colon, *end;
	long	port;

	if (strncmp(addr, "unix:", 5) == 0) {
		addr += 5;
		if (*addr != '/' || strlen(addr) >= 108) {
			snprintf(why, whylen, "unix socket needs an absolute path of at most 107 bytes");
			return -1;
		}
		rc->is_unix = 1;
		snprintf(rc->host, sizeof(rc->host), "%s", addr);
		return 0;
	}
	if (*addr == '[') {
		if ((colon = strstr(addr, "]:")) == NULL) {
			snprintf(why, whylen, "expected [IPv6]:PORT");
			return -1;
		}
		*colon = '\0';
		addr++;
		colon++;
	} else if ((colon = strrchr(addr, ':')) == NULL) {
		snprintf(why, whylen, "expected HOST:PORT or unix:/path");
		return -1;
	}
	*colon++ = '\0';
	port = strtol(colon, &end, 10);
	if (*colon == '\0' || *end != '\0' || port < 1 || port > 65535) {
		snprintf(why, whylen, "bad port \"%.20s\"", colon);
		return -1;
	}
	host = strcmp(addr, "localhost") == 0 ? "127.0.0.1" : addr;
	/* hiredis would resolve a name with a blocking getaddrinfo(). */
	if (inet_pton(AF_INET, host, bin) != 1 && inet_pton(AF_INET6, host, bin) != 1) {
		snprintf(why, whylen, "\"%.60s\" is not a numeric address (no DNS at start-up)", host);
		return -1;
	}
	snprintf(rc->host, sizeof(rc->host), "%s", host);
	rc->port = (int)port;
	return 0;
}

struct cache *
cache_redis_open(struct ev_loop *loop, struct conf *conf, const char *spec,
    char *why, size_t whylen)
{
	struct redis_cache *rc;
	char	buf[1024], name[1100], *opts;

	if (strlen(spec) >= sizeof(buf)) {
		snprintf(why, whylen, "too long");
		return NULL;
	}
	if ((rc = calloc(1, sizeof(*rc))) == NULL) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	snprintf(buf, sizeof(buf), "%s", spec);
	if ((opts = strchr(buf, '?')) != NULL)
		*opts++ = '\0';
	/* The log name shows where, never the password. */
	snprintf(name, sizeof(name), "redis:%s", buf);
	cache_common_init(&rc->base, &redis_ops, loop, conf, name);
	rc->db = -1;
	rc->timeout = TIMEOUT_DFLT;
	rc->backoff = BACKOFF_MIN;
	snprintf(rc->prefix, sizeof(rc->prefix), "%s", PREFIX_DFLT);
	if (parse_address(rc, buf, why, whylen) < 0
	    || (opts != NULL && parse_options(rc, opts, why, whylen) < 0)) {
		free(rc);
		return NULL;
	}
	ev_timer_init(&rc->reconnect_timer, reconnect_cb, 0., 0.);
	rc->reconnect_timer.data = rc;
	ev_timer_init(&rc->connect_timer, connect_deadline_cb, CONNECT_LIMIT, 0.);
	rc->connect_timer.data = rc;
	ev_timer_init(&rc->dbsize_timer, dbsize_timer_cb, DBSIZE_EVERY, DBSIZE_EVERY);
	rc->dbsize_timer.data = rc;
	ev_timer_start(loop, &rc->dbsize_timer);
	ev_prepare_init(&rc->flush_prep, flush_prep_cb);
	rc->flush_prep.data = rc;
	ev_prepare_start(loop, &rc->flush_prep);
	ev_unref(loop);
	/* Down at start-up is not an error: a shared cache may come later. */
	redis_connect(rc);
	return &rc->base;
}
