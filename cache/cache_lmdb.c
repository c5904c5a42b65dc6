/*
 * cache_lmdb - the embedded back end: one LMDB environment in the file
 * PATH.lmdb (as Postfix's lmdb: tables name it).
 *
 * Lookups read the file directly (LMDB reads are memory-mapped and never
 * wait for a writer), after the in-memory batch of updates that are not
 * yet written, so that a client that just passed is found at once.
 * Updates and cleanup deletions collect in that batch, and one write
 * transaction commits it every FLUSH_DELAY seconds (or at FLUSH_MAX
 * entries), in a writer thread: the loop never waits on an fsync (a slow
 * disk's fsync would stall every held client), lookups see the batch in
 * flight until it is in the file, and because LMDB commits are atomic a
 * crash loses at most the last batch and never leaves a damaged file.
 * cache_flush() and close commit synchronously.  LMDB allows this: write
 * transactions only in the writer (one at a time), read transactions
 * (MDB_NOTLS) in the loop.
 *
 * Cleanup works like postscreen's: every screen_cache_cleanup_interval,
 * a pseudo-thread walks the file CLEANUP_STEP entries per loop pass and
 * drops those that cache_cleanup_drop() condemns, then records the time
 * under _LAST_CACHE_CLEANUP_COMPLETED_.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>
#include <uthash.h>

#include "cache/cache_int.h"
#include "conf/log.h"

#define FLUSH_DELAY	1.0		/* seconds an update may wait */
#define FLUSH_MAX	1000		/* updates per batch before writing at once */
#define CLEANUP_STEP	64		/* entries examined per loop pass */
#define MAP_SIZE_DFLT	((size_t)256 << 20)	/* sparse: costs only what is used */
#define MAP_SIZE_MAX	((size_t)64 << 30)
#define LMDB_KEY_MAX	511		/* LMDB's default key limit */
#define LAST_CLEANUP	"_LAST_CACHE_CLEANUP_COMPLETED_"

/* One pending change: a record to write or (del) a key to delete. */
struct pending {
	UT_hash_handle hh;
	int	del;
	struct cache_record rec;
	size_t	keylen;
	char	key[LMDB_KEY_MAX + 1];
};

struct lmdb_cache {
	struct cache base;
	MDB_env	*env;
	MDB_dbi	dbi;
	MDB_txn	*rtxn;			/* read txn, kept reset between uses */
	size_t	mapsize;
	char	file[1100];		/* PATH.lmdb */

	struct pending *pending;	/* the batch (uthash) */
	size_t	npending;
	time_t	last_done;		/* cleanup stamp to write, 0 = none */
	ev_timer flush_timer;

	/* The writer thread and the batch it commits (read-only meanwhile). */
	int	writer_ok;		/* the thread runs */
	pthread_t writer;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int	work;			/* 1: inflight is the writer's; 0: done */
	int	quit;
	int	result;			/* LMDB code of the last commit */
	int	grows;			/* map growths for this batch */
	struct pending *inflight;	/* NULL when none */
	size_t	ninflight;
	time_t	inflight_done;		/* its cleanup stamp */
	ev_async done;			/* the writer finished a batch */

	ev_timer cleanup_timer;		/* start of the next run */
	ev_check cleanup_check;		/* one step per loop pass */
	ev_idle	cleanup_idle;		/* keeps the loop turning meanwhile */
	int	cleaning;
	char	cl_key[LMDB_KEY_MAX + 1];	/* last key examined */
	size_t	cl_keylen;
	unsigned long retained, dropped;
};

static void lmdb_flush(struct cache *);
static void flush_async(struct lmdb_cache *);

static MDB_txn *
rtxn_get(struct lmdb_cache *lc)
{
	int	rc;

	if (lc->rtxn == NULL)
		rc = mdb_txn_begin(lc->env, NULL, MDB_RDONLY, &lc->rtxn);
	else
		rc = mdb_txn_renew(lc->rtxn);
	if (rc != 0) {
		if (lc->rtxn != NULL) {
			mdb_txn_abort(lc->rtxn);
			lc->rtxn = NULL;
		}
		cache_warn_limited(&lc->base, "cache %s: read transaction: %s",
		    lc->base.name, mdb_strerror(rc));
		return NULL;
	}
	return lc->rtxn;
}

static void
rtxn_put(struct lmdb_cache *lc)
{
	if (lc->rtxn != NULL)
		mdb_txn_reset(lc->rtxn);
}

static struct pending *
pending_find(struct lmdb_cache *lc, const void *key, size_t keylen)
{
	struct pending *p;

	HASH_FIND(hh, lc->pending, key, keylen, p);
	return p;
}

/* Add or replace a batch entry; the caller decides when to flush. */
static void
pending_set(struct lmdb_cache *lc, const void *key, size_t keylen, int del,
    const struct cache_record *rec)
{
	struct pending *p;

	if (keylen == 0 || keylen > LMDB_KEY_MAX)
		return;
	if ((p = pending_find(lc, key, keylen)) == NULL) {
		if ((p = calloc(1, sizeof(*p))) == NULL) {
			cache_warn_limited(&lc->base, "cache %s: out of memory", lc->base.name);
			return;
		}
		memcpy(p->key, key, keylen);
		p->keylen = keylen;
		HASH_ADD(hh, lc->pending, key, keylen, p);
		lc->npending++;
	}
	p->del = del;
	if (rec != NULL)
		p->rec = *rec;
	if (!ev_is_active(&lc->flush_timer)) {
		ev_timer_set(&lc->flush_timer, FLUSH_DELAY, 0.);
		ev_timer_start(lc->base.loop, &lc->flush_timer);
	}
}

static void
batch_free(struct pending **batch)
{
	struct pending *p, *tmp;

	HASH_ITER(hh, *batch, p, tmp) {
		HASH_DEL(*batch, p);
		free(p);
	}
}

static void
log_corrupt(struct lmdb_cache *lc, const void *key, size_t keylen)
{
	char	buf[200];

	msg_warn("cache %s: dropping corrupt entry \"%s\"", lc->base.name,
	    log_escape(key, keylen, 60, buf, sizeof(buf)));
}

static struct cache_req *
lmdb_lookup(struct cache *c, const char *ip, cache_lookup_fn *cb, void *arg)
{
	struct lmdb_cache *lc = (struct lmdb_cache *)c;
	struct cache_record rec;
	struct pending *p;
	MDB_val	k, v;
	MDB_txn	*txn;
	size_t	keylen = strlen(ip);
	int	rc, found = 0, corrupt = 0;

	/* The newest first: the batch, then the one being written. */
	if ((p = pending_find(lc, ip, keylen)) == NULL)
		HASH_FIND(hh, lc->inflight, ip, keylen, p);
	if (p != NULL) {
		if (p->del)
			cb(arg, 0, NULL);
		else {
			rec = p->rec;
			cb(arg, 1, &rec);
		}
		return NULL;
	}
	if ((txn = rtxn_get(lc)) != NULL) {
		k.mv_data = (void *)ip;
		k.mv_size = keylen;
		rc = mdb_get(txn, lc->dbi, &k, &v);
		if (rc == 0) {
			if (cache_record_decode(v.mv_data, v.mv_size, &rec) == 0)
				found = 1;
			else
				corrupt = 1;
		} else if (rc != MDB_NOTFOUND)
			cache_warn_limited(c, "cache %s: lookup %s: %s", c->name, ip,
			    mdb_strerror(rc));
		rtxn_put(lc);
	}
	if (corrupt) {
		log_corrupt(lc, ip, keylen);
		pending_set(lc, ip, keylen, 1, NULL);
	}
	cb(arg, found, found ? &rec : NULL);
	return NULL;
}

static void
lmdb_update(struct cache *c, const char *ip, const struct cache_record *rec)
{
	struct lmdb_cache *lc = (struct lmdb_cache *)c;

	pending_set(lc, ip, strlen(ip), 0, rec);
	if (lc->npending >= FLUSH_MAX)
		flush_async(lc);
}

/* Make the map bigger after MDB_MAP_FULL; 0 when it cannot grow. */
static int
grow_map(struct lmdb_cache *lc)
{
	size_t	want = lc->mapsize * 2;
	int	rc;

	if (lc->mapsize >= MAP_SIZE_MAX)
		return 0;
	if (want > MAP_SIZE_MAX)
		want = MAP_SIZE_MAX;
	/* No transaction may be open in this process while resizing. */
	if (lc->rtxn != NULL) {
		mdb_txn_abort(lc->rtxn);
		lc->rtxn = NULL;
	}
	if ((rc = mdb_env_set_mapsize(lc->env, want)) != 0) {
		msg_warn("cache %s: cannot grow map to %zu bytes: %s",
		    lc->base.name, want, mdb_strerror(rc));
		return 0;
	}
	msg_info("cache %s: map size raised to %zu bytes", lc->base.name, want);
	lc->mapsize = want;
	return 1;
}

/* One attempt to commit a batch; an LMDB error code.  Any thread. */
static int
write_batch(struct lmdb_cache *lc, struct pending *batch, time_t last_done)
{
	struct pending *p, *tmp;
	char	val[CACHE_RECORD_MAX], stamp[32];
	MDB_txn	*txn;
	MDB_val	k, v;
	int	rc, n;

	if ((rc = mdb_txn_begin(lc->env, NULL, 0, &txn)) != 0)
		return rc;
	HASH_ITER(hh, batch, p, tmp) {
		k.mv_data = p->key;
		k.mv_size = p->keylen;
		if (p->del) {
			rc = mdb_del(txn, lc->dbi, &k, NULL);
			if (rc == MDB_NOTFOUND)
				rc = 0;
		} else {
			if ((n = cache_record_encode(&p->rec, val, sizeof(val))) < 0)
				continue;
			v.mv_data = val;
			v.mv_size = (size_t)n;
			rc = mdb_put(txn, lc->dbi, &k, &v, 0);
		}
		if (rc != 0)
			goto fail;
	}
	if (last_done != 0) {
		n = snprintf(stamp, sizeof(stamp), "%lld", (long long)last_done);
		k.mv_data = (void *)LAST_CLEANUP;
		k.mv_size = strlen(LAST_CLEANUP);
		v.mv_data = stamp;
		v.mv_size = (size_t)n;
		if ((rc = mdb_put(txn, lc->dbi, &k, &v, 0)) != 0)
			goto fail;
	}
	return mdb_txn_commit(txn);
fail:
	mdb_txn_abort(txn);
	return rc;
}

/* Commit a batch here and now, growing the map as needed; an LMDB code. */
static int
commit_now(struct lmdb_cache *lc, struct pending *batch, time_t last_done)
{
	int	rc, tries;

	for (tries = 0; tries < 4; tries++) {
		rc = write_batch(lc, batch, last_done);
		if (rc != MDB_MAP_FULL || !grow_map(lc))
			break;
	}
	return rc;
}

static void
warn_failed(struct lmdb_cache *lc, size_t n, int rc)
{
	cache_warn_limited(&lc->base, "cache %s: write of %zu entries failed: %s",
	    lc->base.name, n, mdb_strerror(rc));
}

static void *
writer_main(void *arg)
{
	struct lmdb_cache *lc = arg;
	int	rc;

	pthread_mutex_lock(&lc->mu);
	for (;;) {
		while (!lc->work && !lc->quit)
			pthread_cond_wait(&lc->cv, &lc->mu);
		if (!lc->work)
			break;
		pthread_mutex_unlock(&lc->mu);
		rc = write_batch(lc, lc->inflight, lc->inflight_done);
		pthread_mutex_lock(&lc->mu);
		lc->result = rc;
		lc->work = 0;
		pthread_cond_broadcast(&lc->cv);
		ev_async_send(lc->base.loop, &lc->done);
	}
	pthread_mutex_unlock(&lc->mu);
	return NULL;
}

static void
writer_submit(struct lmdb_cache *lc)
{
	pthread_mutex_lock(&lc->mu);
	lc->work = 1;
	pthread_cond_broadcast(&lc->cv);
	pthread_mutex_unlock(&lc->mu);
}

/*
 * The loop's side of a finished commit: grow the map and resubmit after
 * MDB_MAP_FULL (only here, where no transaction is open), else drop the
 * batch, and start on what piled up meanwhile.
 */
static void
writer_finished(struct lmdb_cache *lc)
{
	int	rc;

	if (lc->inflight == NULL && lc->inflight_done == 0)
		return;
	pthread_mutex_lock(&lc->mu);
	rc = lc->work ? -1 : lc->result;
	pthread_mutex_unlock(&lc->mu);
	if (rc == -1)
		return;			/* still at it */
	if (rc == MDB_MAP_FULL && lc->grows++ < 4 && grow_map(lc)) {
		writer_submit(lc);
		return;
	}
	if (rc != 0)
		warn_failed(lc, lc->ninflight, rc);
	/* Either way the batch is gone: retrying a failing write forever helps no one. */
	batch_free(&lc->inflight);
	lc->ninflight = 0;
	lc->inflight_done = 0;
	lc->grows = 0;
	if (lc->npending > 0 && !ev_is_active(&lc->flush_timer))
		flush_async(lc);
}

static void
writer_done_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	(void)loop;
	(void)revents;
	writer_finished(w->data);
}

/* Wait until no batch is in flight (the loop's side included). */
static void
writer_wait(struct lmdb_cache *lc)
{
	while (lc->inflight != NULL || lc->inflight_done != 0) {
		pthread_mutex_lock(&lc->mu);
		while (lc->work)
			pthread_cond_wait(&lc->cv, &lc->mu);
		pthread_mutex_unlock(&lc->mu);
		writer_finished(lc);
	}
}

/* Hand the batch to the writer; if it is busy, the batch waits for it. */
static void
flush_async(struct lmdb_cache *lc)
{
	ev_timer_stop(lc->base.loop, &lc->flush_timer);
	if (lc->npending == 0 && lc->last_done == 0)
		return;
	if (!lc->writer_ok) {
		lmdb_flush(&lc->base);
		return;
	}
	if (lc->inflight != NULL || lc->inflight_done != 0)
		return;			/* writer_finished() comes back here */
	lc->inflight = lc->pending;
	lc->ninflight = lc->npending;
	lc->inflight_done = lc->last_done;
	lc->pending = NULL;
	lc->npending = 0;
	lc->last_done = 0;
	writer_submit(lc);
}

/* cache_flush(): everything in the file when it returns. */
static void
lmdb_flush(struct cache *c)
{
	struct lmdb_cache *lc = (struct lmdb_cache *)c;
	int	rc;

	ev_timer_stop(c->loop, &lc->flush_timer);
	if (lc->writer_ok)
		writer_wait(lc);
	if (lc->npending == 0 && lc->last_done == 0)
		return;
	if ((rc = commit_now(lc, lc->pending, lc->last_done)) != 0)
		warn_failed(lc, lc->npending, rc);
	batch_free(&lc->pending);
	lc->npending = 0;
	lc->last_done = 0;
}

/* The writer, with every signal blocked: they belong to the loop's signalfd. */
static void
writer_start(struct lmdb_cache *lc)
{
	sigset_t all, old;

	if (pthread_mutex_init(&lc->mu, NULL) != 0)
		return;
	if (pthread_cond_init(&lc->cv, NULL) != 0) {
		pthread_mutex_destroy(&lc->mu);
		return;
	}
	ev_async_init(&lc->done, writer_done_cb);
	lc->done.data = lc;
	ev_async_start(lc->base.loop, &lc->done);
	ev_unref(lc->base.loop);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	lc->writer_ok = pthread_create(&lc->writer, NULL, writer_main, lc) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!lc->writer_ok)
		msg_warn("cache %s: no writer thread: commits in the loop", lc->base.name);
}

static void
writer_stop(struct lmdb_cache *lc)
{
	if (!lc->writer_ok)
		return;
	writer_wait(lc);
	pthread_mutex_lock(&lc->mu);
	lc->quit = 1;
	pthread_cond_broadcast(&lc->cv);
	pthread_mutex_unlock(&lc->mu);
	pthread_join(lc->writer, NULL);
	lc->writer_ok = 0;
	ev_ref(lc->base.loop);
	ev_async_stop(lc->base.loop, &lc->done);
	pthread_cond_destroy(&lc->cv);
	pthread_mutex_destroy(&lc->mu);
}

static void
flush_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct lmdb_cache *lc = w->data;

	(void)loop;
	(void)revents;
	flush_async(lc);
}

static size_t
lmdb_size(struct cache *c)
{
	struct lmdb_cache *lc = (struct lmdb_cache *)c;
	struct pending *p, *tmp;
	MDB_stat st;
	MDB_txn	*txn;
	MDB_val	k, v;
	size_t	n = 0;

	if (lc->writer_ok)
		writer_finished(lc);	/* a committed batch counts once */
	if ((txn = rtxn_get(lc)) != NULL) {
		if (mdb_stat(txn, lc->dbi, &st) == 0)
			n = st.ms_entries;
		/* The cleanup stamp is not a client. */
		k.mv_data = (void *)LAST_CLEANUP;
		k.mv_size = strlen(LAST_CLEANUP);
		if (n > 0 && mdb_get(txn, lc->dbi, &k, &v) == 0)
			n--;
		rtxn_put(lc);
	}
	/* Pending additions count already (approximately: some may be rewrites). */
	HASH_ITER(hh, lc->pending, p, tmp)
		if (!p->del)
			n++;
	HASH_ITER(hh, lc->inflight, p, tmp)
		if (!p->del)
			n++;
	return n;
}

/*
 * Cleanup.
 */
static void
cleanup_schedule(struct lmdb_cache *lc, double delay)
{
	if (lc->base.cleanup_interval <= 0)
		return;
	if (delay < 0)
		delay = 0;
	ev_timer_stop(lc->base.loop, &lc->cleanup_timer);
	ev_timer_set(&lc->cleanup_timer, delay, 0.);
	ev_timer_start(lc->base.loop, &lc->cleanup_timer);
}

static void
cleanup_finish(struct lmdb_cache *lc)
{
	lc->cleaning = 0;
	ev_check_stop(lc->base.loop, &lc->cleanup_check);
	ev_idle_stop(lc->base.loop, &lc->cleanup_idle);
	msg_info("cache %s full cleanup: retained=%lu dropped=%lu entries",
	    lc->base.name, lc->retained, lc->dropped);
	lc->last_done = (time_t)ev_now(lc->base.loop);
	if (!ev_is_active(&lc->flush_timer)) {
		ev_timer_set(&lc->flush_timer, FLUSH_DELAY, 0.);
		ev_timer_start(lc->base.loop, &lc->flush_timer);
	}
	cleanup_schedule(lc, (double)lc->base.cleanup_interval);
}

/* Judge one file entry; 1 when it is to be dropped. */
static int
cleanup_judge(struct lmdb_cache *lc, const MDB_val *k, const MDB_val *v, time_t now)
{
	struct cache_record rec;
	struct pending *p;
	char	key[CACHE_KEY_MAX + 1];

	if ((p = pending_find(lc, k->mv_data, k->mv_size)) != NULL)
		return p->del;		/* the batch has the newer word */
	if (k->mv_size > CACHE_KEY_MAX || cache_record_decode(v->mv_data, v->mv_size, &rec) != 0)
		goto corrupt;
	memcpy(key, k->mv_data, k->mv_size);
	key[k->mv_size] = '\0';
	if (strlen(key) != k->mv_size || !cache_key_ok(key))
		goto corrupt;
	if (!cache_cleanup_drop(&rec, lc->base.enabled, now, lc->base.retention))
		return 0;
	pending_set(lc, k->mv_data, k->mv_size, 1, NULL);
	return 1;
corrupt:
	log_corrupt(lc, k->mv_data, k->mv_size);
	pending_set(lc, k->mv_data, k->mv_size, 1, NULL);
	return 1;
}

static void
cleanup_step(struct lmdb_cache *lc)
{
	MDB_cursor *cur;
	MDB_txn	*txn;
	MDB_val	k, v;
	time_t	now = (time_t)ev_now(lc->base.loop);
	int	rc, n, done = 0;

	if ((txn = rtxn_get(lc)) == NULL)
		return;
	if ((rc = mdb_cursor_open(txn, lc->dbi, &cur)) != 0) {
		rtxn_put(lc);
		cache_warn_limited(&lc->base, "cache %s: cleanup: %s", lc->base.name,
		    mdb_strerror(rc));
		return;
	}
	if (lc->cl_keylen == 0) {
		rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	} else {
		k.mv_data = lc->cl_key;
		k.mv_size = lc->cl_keylen;
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		/* Resume after the last key seen, which may have gone meanwhile. */
		if (rc == 0 && k.mv_size == lc->cl_keylen
		    && memcmp(k.mv_data, lc->cl_key, k.mv_size) == 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	for (n = 0; rc == 0 && n < CLEANUP_STEP; n++) {
		if (!(k.mv_size == strlen(LAST_CLEANUP)
		    && memcmp(k.mv_data, LAST_CLEANUP, k.mv_size) == 0)) {
			if (cleanup_judge(lc, &k, &v, now))
				lc->dropped++;
			else
				lc->retained++;
		}
		memcpy(lc->cl_key, k.mv_data, k.mv_size);
		lc->cl_keylen = k.mv_size;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	if (rc == MDB_NOTFOUND)
		done = 1;
	else if (rc != 0) {
		cache_warn_limited(&lc->base, "cache %s: cleanup: %s", lc->base.name,
		    mdb_strerror(rc));
		done = 1;
	}
	mdb_cursor_close(cur);
	rtxn_put(lc);
	if (done)
		cleanup_finish(lc);
	if (lc->npending >= FLUSH_MAX)
		flush_async(lc);
}

static void
cleanup_check_cb(struct ev_loop *loop, ev_check *w, int revents)
{
	(void)loop;
	(void)revents;
	cleanup_step(w->data);
}

static void
cleanup_idle_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	/* Nothing: its being active keeps the loop from sleeping. */
	(void)loop;
	(void)w;
	(void)revents;
}

static void
cleanup_start_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct lmdb_cache *lc = w->data;

	(void)revents;
	lc->cleaning = 1;
	lc->cl_keylen = 0;
	lc->retained = lc->dropped = 0;
	ev_check_start(loop, &lc->cleanup_check);
	ev_idle_start(loop, &lc->cleanup_idle);
}

/* When did the last full cleanup finish?  0 if never (or unreadable). */
static time_t
read_last_done(struct lmdb_cache *lc)
{
	MDB_txn	*txn;
	MDB_val	k, v;
	char	buf[32];
	time_t	t = 0;

	if ((txn = rtxn_get(lc)) == NULL)
		return 0;
	k.mv_data = (void *)LAST_CLEANUP;
	k.mv_size = strlen(LAST_CLEANUP);
	if (mdb_get(txn, lc->dbi, &k, &v) == 0 && v.mv_size > 0 && v.mv_size < sizeof(buf)) {
		memcpy(buf, v.mv_data, v.mv_size);
		buf[v.mv_size] = '\0';
		t = (time_t)strtoll(buf, NULL, 10);
	}
	rtxn_put(lc);
	return t;
}

static void
lmdb_close(struct cache *c)
{
	struct lmdb_cache *lc = (struct lmdb_cache *)c;

	if (lc->cleaning) {
		msg_info("cache %s partial cleanup: retained=%lu dropped=%lu entries",
		    c->name, lc->retained, lc->dropped);
		ev_check_stop(c->loop, &lc->cleanup_check);
		ev_idle_stop(c->loop, &lc->cleanup_idle);
		lc->cleaning = 0;
	}
	ev_timer_stop(c->loop, &lc->cleanup_timer);
	writer_stop(lc);
	lmdb_flush(c);
	if (lc->rtxn != NULL)
		mdb_txn_abort(lc->rtxn);
	mdb_dbi_close(lc->env, lc->dbi);
	mdb_env_close(lc->env);
	free(lc);
}

static const struct cache_ops lmdb_ops = {
	lmdb_lookup, lmdb_update, lmdb_flush, lmdb_size, lmdb_close
};

static size_t
map_size_from_conf(struct conf *conf)
{
	const char *s;
	char	*end;
	unsigned long long v;

	if (conf == NULL || conf_raw(conf, "lmdb_map_size") == NULL)
		return MAP_SIZE_DFLT;
	s = conf_str(conf, "lmdb_map_size");
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < (1u << 20))
		return MAP_SIZE_DFLT;
	return v > MAP_SIZE_MAX ? MAP_SIZE_MAX : (size_t)v;
}

struct cache *
cache_lmdb_open(struct ev_loop *loop, struct conf *conf, const char *path,
    char *why, size_t whylen)
{
	struct lmdb_cache *lc;
	MDB_txn	*txn;
	char	name[1100];
	time_t	last;
	int	rc, dead;

	if (strlen(path) > 1000) {
		snprintf(why, whylen, "file name too long");
		return NULL;
	}
	if ((lc = calloc(1, sizeof(*lc))) == NULL) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	snprintf(name, sizeof(name), "lmdb:%s", path);
	cache_common_init(&lc->base, &lmdb_ops, loop, conf, name);
	snprintf(lc->file, sizeof(lc->file), "%s.lmdb", path);
	lc->mapsize = map_size_from_conf(conf);

	if ((rc = mdb_env_create(&lc->env)) != 0)
		goto fail;
	if ((rc = mdb_env_set_mapsize(lc->env, lc->mapsize)) != 0)
		goto fail_env;
	/* NOTLS: read transactions belong to this handle, not to a thread. */
	if ((rc = mdb_env_open(lc->env, lc->file, MDB_NOSUBDIR | MDB_NOTLS, 0600)) != 0)
		goto fail_env;
	/* Reader slots left by a crashed predecessor would pin old pages. */
	(void)mdb_reader_check(lc->env, &dead);
	if ((rc = mdb_txn_begin(lc->env, NULL, 0, &txn)) != 0)
		goto fail_env;
	if ((rc = mdb_dbi_open(txn, NULL, 0, &lc->dbi)) != 0) {
		mdb_txn_abort(txn);
		goto fail_env;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail_env;
	{
		MDB_envinfo info;

		/* An existing file may have been made with a bigger map. */
		if (mdb_env_info(lc->env, &info) == 0 && info.me_mapsize > lc->mapsize)
			lc->mapsize = info.me_mapsize;
	}

	ev_timer_init(&lc->flush_timer, flush_cb, FLUSH_DELAY, 0.);
	lc->flush_timer.data = lc;
	ev_timer_init(&lc->cleanup_timer, cleanup_start_cb, 0., 0.);
	lc->cleanup_timer.data = lc;
	ev_check_init(&lc->cleanup_check, cleanup_check_cb);
	lc->cleanup_check.data = lc;
	ev_idle_init(&lc->cleanup_idle, cleanup_idle_cb);
	lc->cleanup_idle.data = lc;
	writer_start(lc);

	/* postscreen's rhythm: the next run is due interval after the last. */
	last = read_last_done(lc);
	if (last > 0)
		cleanup_schedule(lc, (double)(last + lc->base.cleanup_interval)
		    - ev_now(loop));
	else
		cleanup_schedule(lc, 0);
	return &lc->base;

fail_env:
	mdb_env_close(lc->env);
fail:
	snprintf(why, whylen, "%s: %s", lc->file,
	    rc == MDB_INVALID ? "not an LMDB file (or damaged)" : mdb_strerror(rc));
	free(lc);
	return NULL;
}
