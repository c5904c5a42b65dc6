/*
 * test_cache_lmdb - the LMDB back end in a temporary directory: round
 * trip, persistence across reopen, batching (what another process sees
 * before and after a flush), corrupt entries, and the incremental
 * cleanup with postscreen's log line.
 */
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <ev.h>
#include <lmdb.h>

#include "cache/cache.h"
#include "conf/conf.h"
#include "conf/log.h"

static char dir[256], base[300], spec[320], logpath[300];
static struct ev_loop *loop;
static struct conf *conf;

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_cache_lmdb.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(base, sizeof(base), "%s/screen_cache", dir);
	snprintf(spec, sizeof(spec), "lmdb:%s", base);
	snprintf(logpath, sizeof(logpath), "%s/maillog", dir);
	log_open("test/postscreen", logpath);
	loop = ev_loop_new(EVFLAG_AUTO);
	conf = conf_create();
	conf_set(conf, "screen_cache_cleanup_interval", "0");
	conf_set(conf, "screen_greet_banner", "hello");
	conf_set(conf, "screen_dnsbl_sites", "zen.example");
}

static void
teardown(void)
{
	char	cmd[300];

	conf_free(conf);
	ev_loop_destroy(loop);
	log_close();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)system(cmd);
}

TestSuite(lmdb, .init = setup, .fini = teardown, .timeout = 20);

struct answer {
	int	called, found;
	struct cache_record rec;
};

static void
answer_cb(void *arg, int found, const struct cache_record *rec)
{
	struct answer *a = arg;

	a->called++;
	a->found = found;
	if (found)
		a->rec = *rec;
}

static struct answer
lookup(struct cache *c, const char *ip)
{
	struct answer a = { 0, 0, { { 0 } } };

	cr_assert_null(cache_lookup(c, ip, answer_cb, &a), "LMDB answers at once");
	cr_assert_eq(a.called, 1);
	return a;
}

static struct cache *
open_cache(void)
{
	struct conf_err err;
	struct cache *c = cache_open_spec(loop, conf, spec, &err);

	cr_assert_not_null(c, "open %s: %s", spec, err.reason);
	return c;
}

/* Run the loop for a while (bounded). */
static void
stop_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(l, EVBREAK_ALL);
}

static void
run_for(double seconds)
{
	ev_timer t;

	ev_timer_init(&t, stop_cb, seconds, 0.);
	ev_timer_start(loop, &t);
	ev_run(loop, 0);
	ev_timer_stop(loop, &t);
}

/* In a separate process (as another reader would): is ip in the file? */
static int
in_file(const char *ip)
{
	char	file[400];
	pid_t	pid;
	int	status;

	snprintf(file, sizeof(file), "%s.lmdb", base);
	if ((pid = fork()) == 0) {
		MDB_env *env;
		MDB_txn	*txn;
		MDB_dbi	dbi;
		MDB_val	k, v;

		if (mdb_env_create(&env) || mdb_env_open(env, file, MDB_NOSUBDIR | MDB_RDONLY, 0600)
		    || mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) || mdb_dbi_open(txn, NULL, 0, &dbi))
			_exit(2);
		k.mv_data = (void *)ip;
		k.mv_size = strlen(ip);
		_exit(mdb_get(txn, dbi, &k, &v) == 0 ? 1 : 0);
	}
	cr_assert_gt(pid, 0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	cr_assert_neq(WEXITSTATUS(status), 2, "child could not open %s", file);
	return WEXITSTATUS(status);
}

/* Write raw key/value pairs while no cache handle is open. */
static void
raw_put(const char *key, size_t klen, const char *val, size_t vlen)
{
	char	file[400];
	MDB_env	*env;
	MDB_txn	*txn;
	MDB_dbi	dbi;
	MDB_val	k = { klen, (void *)key }, v = { vlen, (void *)val };

	snprintf(file, sizeof(file), "%s.lmdb", base);
	cr_assert_eq(mdb_env_create(&env), 0);
	cr_assert_eq(mdb_env_open(env, file, MDB_NOSUBDIR, 0600), 0);
	cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
	cr_assert_eq(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
	cr_assert_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
	cr_assert_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static int
log_has(const char *text)
{
	char	line[2048];
	FILE	*fp = fopen(logpath, "r");
	int	n = 0;

	if (fp == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strstr(line, text) != NULL)
			n++;
	fclose(fp);
	return n;
}

Test(lmdb, round_trip_and_reopen)
{
	struct cache_record r = { { 2000000000, 2000000100, 1, 1, 1 } };
	struct cache *c = open_cache();
	struct answer a;

	cr_assert_str_eq(cache_name(c), spec);
	a = lookup(c, "192.0.2.1");
	cr_assert_eq(a.found, 0);
	cache_update(c, "192.0.2.1", &r);
	cache_update(c, "2001:db8::1", &r);
	a = lookup(c, "192.0.2.1");
	cr_assert_eq(a.found, 1, "pending update is visible at once");
	cr_assert_eq(memcmp(&a.rec, &r, sizeof(r)), 0);
	cr_assert_eq(cache_size(c), 2);
	cache_close(c);

	c = open_cache();
	a = lookup(c, "192.0.2.1");
	cr_assert_eq(a.found, 1, "survives a reopen");
	cr_assert_eq(memcmp(&a.rec, &r, sizeof(r)), 0);
	cr_assert_eq(lookup(c, "2001:db8::1").found, 1);
	cr_assert_eq(lookup(c, "192.0.2.2").found, 0);
	cr_assert_eq(cache_size(c), 2);
	cache_close(c);
}

Test(lmdb, hostile_keys_never_found)
{
	struct cache_record r = { { 2000000000, 1, 1, 1, 1 } };
	struct cache *c = open_cache();
	char	longkey[200];

	memset(longkey, '1', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	cache_update(c, longkey, &r);
	cache_update(c, "", &r);
	cache_update(c, "a b", &r);
	cr_assert_eq(lookup(c, longkey).found, 0);
	cr_assert_eq(lookup(c, "").found, 0);
	cr_assert_eq(lookup(c, "a b").found, 0);
	cr_assert_eq(cache_size(c), 0);
	cache_close(c);
}

Test(lmdb, batched_writes_reach_the_file)
{
	struct cache_record r = { { 2000000000, 2000000000, 1, 1, 1 } };
	struct cache *c = open_cache();

	cache_update(c, "198.51.100.7", &r);
	cr_assert_eq(in_file("198.51.100.7"), 0, "not written per client");
	run_for(1.5);
	cr_assert_eq(in_file("198.51.100.7"), 1, "written by the batch timer");

	cache_update(c, "198.51.100.8", &r);
	cache_flush(c);
	cr_assert_eq(in_file("198.51.100.8"), 1, "written by cache_flush");

	cache_update(c, "198.51.100.9", &r);
	cache_close(c);
	cr_assert_eq(in_file("198.51.100.9"), 1, "written by cache_close");
}

Test(lmdb, many_updates_flush_without_timer)
{
	struct cache_record r = { { 2000000000, 2000000000, 1, 1, 1 } };
	struct cache *c = open_cache();
	char	ip[32];
	int	i;

	for (i = 0; i < 2500; i++) {
		snprintf(ip, sizeof(ip), "10.0.%d.%d", i / 250, i % 250);
		cache_update(c, ip, &r);
		/* Whether in the batch, in flight or written: found at once. */
		cr_assert_eq(lookup(c, ip).found, 1, "%s found right after its update", ip);
		cr_assert_eq(lookup(c, "10.0.0.0").found, 1);
	}
	/* A full batch goes to the writer thread at once, not after the 1 s timer. */
	run_for(0.3);
	cr_assert_eq(in_file("10.0.0.0"), 1, "a full batch is written at once");
	cr_assert_eq(in_file("10.0.3.249"), 1, "and the next one after it");
	cr_assert_eq(cache_size(c), 2500);
	cache_close(c);
	cr_assert_eq(in_file("10.0.9.249"), 1, "the rest at close");
}

Test(lmdb, corrupt_entry_dropped_and_logged)
{
	struct cache *c = open_cache();

	cache_close(c);
	raw_put("192.0.2.66", 10, "garbage!", 8);
	c = open_cache();
	cr_assert_eq(lookup(c, "192.0.2.66").found, 0);
	cr_assert_geq(log_has("warning: cache lmdb:"), 1);
	cr_assert_geq(log_has("dropping corrupt entry \"192.0.2.66\""), 1);
	cache_close(c);
	cr_assert_eq(in_file("192.0.2.66"), 0, "deleted from the file");
}

Test(lmdb, bad_paths_are_startup_errors)
{
	struct conf_err err;
	char	bad[400];
	FILE	*fp;

	cr_assert_null(cache_open_spec(loop, conf, "lmdb:/nonexistent/dir/cache", &err));
	cr_assert(strstr(err.reason, "No such file") != NULL, "%s", err.reason);
	cr_assert_null(cache_open_spec(loop, conf, "lmdb:", &err));
	cr_assert_null(cache_open_spec(loop, conf, "nosuch:/x", &err));
	cr_assert(strstr(err.reason, "unsupported") != NULL, "%s", err.reason);

	/* A file that is not LMDB. */
	snprintf(bad, sizeof(bad), "%s/junk.lmdb", dir);
	fp = fopen(bad, "w");
	cr_assert_not_null(fp);
	fputs("this is not a database, but it is long enough to be read as one ...", fp);
	for (int i = 0; i < 2000; i++)
		fputs("junk junk junk ", fp);
	fclose(fp);
	snprintf(bad, sizeof(bad), "lmdb:%s/junk", dir);
	cr_assert_null(cache_open_spec(loop, conf, bad, &err));
	cr_assert(strstr(err.reason, "junk.lmdb") != NULL, "%s", err.reason);

	/* Empty: no cache, and no error. */
	cr_assert_null(cache_open_spec(loop, conf, "  ", &err));
	cr_assert_eq(err.reason[0], '\0');
}

Test(lmdb, btree_alias_maps_to_lmdb)
{
	struct conf_err err;
	char	alias[400];
	struct cache *c;

	snprintf(alias, sizeof(alias), "btree:%s", base);
	c = cache_open_spec(loop, conf, alias, &err);
	cr_assert_not_null(c, "%s", err.reason);
	cr_assert_str_eq(cache_name(c), spec);
	cr_assert_eq(log_has("is stored as lmdb:"), 1);
	cache_close(c);
}

Test(lmdb, null_cache_is_a_quiet_miss)
{
	struct cache_record r = { { 5, 5, 5, 5, 5 } };
	struct answer a = { 0, 0, { { 0 } } };

	cr_assert_null(cache_lookup(NULL, "192.0.2.1", answer_cb, &a));
	cr_assert_eq(a.called, 1);
	cr_assert_eq(a.found, 0);
	cache_update(NULL, "192.0.2.1", &r);
	cache_cancel(NULL);
	cr_assert_eq(cache_size(NULL), 0);
	cache_close(NULL);
}

Test(lmdb, incremental_cleanup)
{
	time_t	now = time(NULL);
	struct cache_record keep = { { now + 3600, now + 3600, 1, 1, 1 } };
	struct cache_record gone = { { now - 3 * 86400, now + 3600, 1, 1, 1 } };
	struct cache_record deep = { { now + 3600, now + 3600, now - 3 * 86400, 1, 1 } };
	struct cache *c = open_cache();
	char	ip[32], line[500];
	int	i;

	/* 300 kept, 200 expired past retention, 50 with an expired deep test (disabled). */
	for (i = 0; i < 550; i++) {
		snprintf(ip, sizeof(ip), "10.1.%d.%d", i / 200, i % 200);
		cache_update(c, ip, i < 300 ? &keep : i < 500 ? &gone : &deep);
	}
	cache_close(c);
	raw_put("\001\002bad", 5, "1;2;3;4;5", 9);	/* a key no client has */
	raw_put("10.9.9.9", 8, "x;y", 3);		/* a garbage value */

	conf_set(conf, "screen_cache_cleanup_interval", "1h");
	conf_set(conf, "screen_cache_retention_time", "1d");
	c = open_cache();
	/* 552 entries at 64 per pass: the walk spans several loop passes. */
	for (i = 0; i < 100 && log_has("full cleanup") == 0; i++)
		run_for(0.05);
	snprintf(line, sizeof(line), "cache %s full cleanup: retained=350 dropped=202 entries", spec);
	cr_assert_eq(log_has(line), 1, "log line \"%s\"", line);
	cr_assert_geq(log_has("dropping corrupt entry \"\\001\\002bad\""), 1);
	cr_assert_eq(lookup(c, "10.1.0.5").found, 1);
	cr_assert_eq(lookup(c, "10.1.1.150").found, 0, "dropped (pending delete)");
	cr_assert_eq(lookup(c, "10.1.2.120").found, 1, "deep test not enabled: kept");
	cache_close(c);
	cr_assert_eq(in_file("10.1.1.150"), 0);
	cr_assert_eq(in_file("10.1.0.5"), 1);
	cr_assert_eq(in_file("_LAST_CACHE_CLEANUP_COMPLETED_"), 1);

	/* Reopened within the interval: no new run. */
	c = open_cache();
	cr_assert_eq(cache_size(c), 350);
	run_for(0.3);
	cr_assert_eq(log_has("full cleanup"), 1);
	cache_close(c);
}

Test(lmdb, close_mid_cleanup_logs_partial)
{
	time_t	now = time(NULL);
	struct cache_record keep = { { now + 3600, now + 3600, 1, 1, 1 } };
	struct cache *c = open_cache();
	char	ip[32];
	int	i;

	for (i = 0; i < 1000; i++) {
		snprintf(ip, sizeof(ip), "10.2.%d.%d", i / 200, i % 200);
		cache_update(c, ip, &keep);
	}
	cache_close(c);
	conf_set(conf, "screen_cache_cleanup_interval", "1h");
	c = open_cache();
	ev_run(loop, EVRUN_NOWAIT);	/* starts the run */
	ev_run(loop, EVRUN_NOWAIT);	/* one or two steps */
	cache_close(c);
	cr_assert_eq(log_has("partial cleanup: retained="), 1);
	cr_assert_eq(log_has("full cleanup"), 0);
}

Test(lmdb, map_grows_when_full)
{
	struct cache_record r = { { 2000000000, 2000000000, 1, 1, 1 } };
	struct cache *c;
	char	ip[32];
	int	i;

	conf_set(conf, "lmdb_map_size", "1048576");
	c = open_cache();
	for (i = 0; i < 30000; i++) {
		snprintf(ip, sizeof(ip), "10.3.%d.%d", i / 250, i % 250);
		cache_update(c, ip, &r);
	}
	cache_flush(c);
	cr_assert_eq(cache_size(c), 30000);
	cr_assert_geq(log_has("map size raised to"), 1);
	cr_assert_eq(log_has("write of"), 0, "no batch was lost");
	cr_assert_eq(lookup(c, "_LAST_CACHE_CLEANUP_COMPLETED_").found, 0);
	cache_close(c);
	cr_assert_eq(in_file("10.3.119.249"), 1);
}
