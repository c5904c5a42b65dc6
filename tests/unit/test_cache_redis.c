/*
 * test_cache_redis - the Redis back end against a real redis-server that
 * each test starts on its own loopback port (23100-23199) in a temporary
 * directory and kills: lookups and updates, TTLs, corrupt values,
 * cancel, passwords, unix sockets, and a Redis that stops answering or
 * dies mid-run (misses within the request timeout, one warning, back on
 * its feet after a restart).  Skipped when redis-server is missing.
 */
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <ev.h>
#include <hiredis/hiredis.h>

#include "cache/cache.h"
#include "conf/conf.h"
#include "conf/log.h"

#define REDIS_BIN	"redis-server"

static char dir[256], logpath[300], sockpath[300];
static struct ev_loop *loop;
static struct conf *conf;
static pid_t redis_pid = -1;
static int have_redis;

static int
find_redis(void)
{
	return system("command -v " REDIS_BIN " >/dev/null 2>&1") == 0;
}

static void
setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	have_redis = find_redis();
	snprintf(dir, sizeof(dir), "/tmp/test_cache_redis.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(logpath, sizeof(logpath), "%s/maillog", dir);
	snprintf(sockpath, sizeof(sockpath), "%s/redis.sock", dir);
	log_open("test/postscreen", logpath);
	loop = ev_loop_new(EVFLAG_AUTO);
	conf = conf_create();
	conf_set(conf, "screen_cache_retention_time", "1d");
}

static void
redis_stop(void)
{
	int	status;

	if (redis_pid > 0) {
		kill(redis_pid, SIGCONT);
		kill(redis_pid, SIGKILL);
		waitpid(redis_pid, &status, 0);
		redis_pid = -1;
	}
}

static void
teardown(void)
{
	char	cmd[300];

	redis_stop();
	conf_free(conf);
	ev_loop_destroy(loop);
	log_close();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)system(cmd);
}

TestSuite(redis, .init = setup, .fini = teardown, .timeout = 40);

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A synchronous client for checking what the server holds. */
static redisContext *
sync_client(int port, int wait)
{
	struct timeval tv = { 0, 200000 };
	redisContext *rc;
	double	end = now_s() + wait;

	do {
		rc = port ? redisConnectWithTimeout("127.0.0.1", port, tv) :
		    redisConnectUnixWithTimeout(sockpath, tv);
		if (rc != NULL && !rc->err)
			return rc;
		if (rc != NULL)
			redisFree(rc);
		usleep(50000);
	} while (now_s() < end);
	return NULL;
}

/* Start redis-server on port (0: on the unix socket), optional password. */
static void
redis_start(int port, const char *password)
{
	char	portbuf[16];
	redisContext *rc;

	if (!have_redis)
		cr_skip_test("redis-server is not installed; Redis tests skipped");
	snprintf(portbuf, sizeof(portbuf), "%d", port);
	if ((redis_pid = fork()) == 0) {
		const char *argv[20];
		int	n = 0, fd;

		argv[n++] = REDIS_BIN;
		argv[n++] = "--port";
		argv[n++] = portbuf;
		argv[n++] = "--bind";
		argv[n++] = "127.0.0.1";
		argv[n++] = "--save";
		argv[n++] = "";
		argv[n++] = "--appendonly";
		argv[n++] = "no";
		argv[n++] = "--dir";
		argv[n++] = dir;
		if (port == 0) {
			argv[n++] = "--unixsocket";
			argv[n++] = sockpath;
		}
		if (password != NULL) {
			argv[n++] = "--requirepass";
			argv[n++] = password;
		}
		argv[n] = NULL;
		if ((fd = open("/dev/null", O_WRONLY)) >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(REDIS_BIN, (char **)argv);
		_exit(127);
	}
	cr_assert_gt(redis_pid, 0);
	rc = sync_client(port, 5);
	cr_assert_not_null(rc, "redis-server did not come up on port %d", port);
	redisFree(rc);
}

static void
tick_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)l;
	(void)w;
	(void)revents;
}

/* Let the loop run for a while; a ticking timer keeps it from sleeping long. */
static void
run_for(double seconds)
{
	ev_timer tick;
	double	end = now_s() + seconds;

	ev_timer_init(&tick, tick_cb, 0.01, 0.01);
	ev_timer_start(loop, &tick);
	while (now_s() < end)
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &tick);
}

struct answer {
	int	called, found;
	double	at;
	struct cache_record rec;
};

static void
answer_cb(void *arg, int found, const struct cache_record *rec)
{
	struct answer *a = arg;

	a->called++;
	a->found = found;
	a->at = now_s();
	if (found)
		a->rec = *rec;
}

/* Look up and wait (bounded) for the answer; *async says if it came later. */
static struct answer
lookup(struct cache *c, const char *ip, int *async)
{
	struct answer a = { 0, 0, 0, { { 0 } } };
	struct cache_req *req;
	double	end = now_s() + 3;

	req = cache_lookup(c, ip, answer_cb, &a);
	if (async != NULL)
		*async = req != NULL;
	while (a.called == 0 && now_s() < end)
		run_for(0.005);
	cr_assert_eq(a.called, 1, "exactly one answer for %s", ip);
	return a;
}

/* Wait until lookups go to the server (the connection is up). */
static int
wait_up(struct cache *c, double seconds)
{
	double	end = now_s() + seconds;
	int	async;

	do {
		(void)lookup(c, "192.0.2.250", &async);
		if (async)
			return 1;
		run_for(0.05);
	} while (now_s() < end);
	return 0;
}

static struct cache *
open_spec(const char *spec)
{
	struct conf_err err;
	struct cache *c = cache_open_spec(loop, conf, spec, &err);

	cr_assert_not_null(c, "open %s: %s", spec, err.reason);
	return c;
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

static struct cache_record
fresh_record(void)
{
	time_t	now = time(NULL);
	struct cache_record r = { { now + 3600, now + 60, 1, 1, 1 } };

	return r;
}

Test(redis, lookup_update_and_ttl)
{
	struct cache_record r = fresh_record();
	struct cache *c;
	struct answer a;
	redisContext *sc;
	redisReply *rep;
	char	want[CACHE_RECORD_MAX];
	int	async, i;

	redis_start(23101, NULL);
	c = open_spec("redis:127.0.0.1:23101?prefix=t:&timeout=300ms");
	cr_assert_str_eq(cache_name(c), "redis:127.0.0.1:23101");
	cr_assert(wait_up(c, 3), "connected");
	a = lookup(c, "192.0.2.1", &async);
	cr_assert(async);
	cr_assert_eq(a.found, 0);

	cache_update(c, "192.0.2.1", &r);
	for (i = 0; i < 100 && !(a = lookup(c, "192.0.2.1", NULL)).found; i++)
		run_for(0.01);
	cr_assert_eq(a.found, 1);
	cr_assert_eq(memcmp(&a.rec, &r, sizeof(r)), 0);

	sc = sync_client(23101, 2);
	cr_assert_not_null(sc);
	rep = redisCommand(sc, "GET t:192.0.2.1");
	cache_record_encode(&r, want, sizeof(want));
	cr_assert_eq(rep->type, REDIS_REPLY_STRING);
	cr_assert_str_eq(rep->str, want);
	freeReplyObject(rep);
	/* TTL = latest expiry - now + retention = 3600 + 86400. */
	rep = redisCommand(sc, "TTL t:192.0.2.1");
	cr_assert_eq(rep->type, REDIS_REPLY_INTEGER);
	cr_assert(rep->integer > 89990 && rep->integer <= 90000, "ttl %lld", rep->integer);
	freeReplyObject(rep);
	redisFree(sc);

	/* DBSIZE is fetched when the connection comes up. */
	cr_assert_geq(cache_size(c), 0);
	cache_close(c);
}

Test(redis, corrupt_value_dropped)
{
	struct cache *c;
	redisContext *sc;
	redisReply *rep;
	int	i;

	redis_start(23102, NULL);
	sc = sync_client(23102, 2);
	freeReplyObject(redisCommand(sc, "SET doorman:192.0.2.9 %s", "not;a record!"));
	c = open_spec("redis:127.0.0.1:23102");
	cr_assert(wait_up(c, 3));
	cr_assert_eq(lookup(c, "192.0.2.9", NULL).found, 0);
	cr_assert_eq(log_has("dropping corrupt entry \"192.0.2.9\""), 1);
	for (i = 0; i < 100; i++) {
		rep = redisCommand(sc, "EXISTS doorman:192.0.2.9");
		if (rep->integer == 0)
			break;
		freeReplyObject(rep);
		rep = NULL;
		run_for(0.01);
	}
	cr_assert_not_null(rep, "the corrupt key was deleted");
	freeReplyObject(rep);
	redisFree(sc);
	cache_close(c);
}

static int cancelled_calls;

static void
count_cb(void *arg, int found, const struct cache_record *rec)
{
	(void)arg;
	(void)found;
	(void)rec;
	cancelled_calls++;
}

Test(redis, cancel_and_close_with_pending)
{
	struct cache *c;
	struct cache_req *req;
	struct answer a = { 0, 0, 0, { { 0 } } };

	redis_start(23103, NULL);
	c = open_spec("redis:127.0.0.1:23103");
	cr_assert(wait_up(c, 3));
	req = cache_lookup(c, "192.0.2.3", count_cb, NULL);
	cr_assert_not_null(req);
	cache_cancel(req);
	run_for(0.4);
	cr_assert_eq(cancelled_calls, 0, "a cancelled lookup never calls back");

	/* Closing with a lookup in flight answers it with a miss. */
	cr_assert_not_null(cache_lookup(c, "192.0.2.4", answer_cb, &a));
	cache_close(c);
	cr_assert_eq(a.called, 1);
	cr_assert_eq(a.found, 0);
	run_for(0.1);
	cr_assert_eq(a.called, 1);
}

Test(redis, stopped_then_killed_then_back)
{
	struct cache_record r = fresh_record();
	struct cache *c;
	struct answer a;
	double	t0;
	int	async, i;

	redis_start(23104, NULL);
	c = open_spec("redis:127.0.0.1:23104?timeout=200ms");
	cr_assert(wait_up(c, 3));

	/* A frozen server: the lookup is a miss within its deadline. */
	kill(redis_pid, SIGSTOP);
	t0 = now_s();
	a = lookup(c, "192.0.2.5", &async);
	cr_assert(async);
	cr_assert_eq(a.found, 0);
	cr_assert(a.at - t0 >= 0.18 && a.at - t0 < 0.45, "miss after %.3fs", a.at - t0);
	cr_assert_eq(log_has("warning: cache redis:127.0.0.1:23104: no answer within 0.2s"), 1);

	/* Now known to be down: misses come at once, without waiting. */
	for (i = 0; i < 50; i++) {
		t0 = now_s();
		cr_assert_null(cache_lookup(c, "192.0.2.6", answer_cb, &a));
		cr_assert(now_s() - t0 < 0.01);
	}
	cache_update(c, "192.0.2.6", &r);	/* dropped, never blocks */

	/* Dead: reconnects fail, still no stall, still one warning a minute. */
	kill(redis_pid, SIGCONT);
	redis_stop();
	run_for(1.5);
	t0 = now_s();
	(void)lookup(c, "192.0.2.7", NULL);
	cr_assert(now_s() - t0 < 0.25);
	cr_assert_eq(log_has("warning: cache redis:"), 1, "one warning per minute");

	/* Back: the cache reconnects on its own and works again. */
	redis_start(23104, NULL);
	cr_assert(wait_up(c, 10), "reconnected after the restart");
	cr_assert_eq(log_has("cache redis:127.0.0.1:23104: connected again"), 1);
	cache_update(c, "192.0.2.8", &r);
	for (i = 0; i < 100 && !(a = lookup(c, "192.0.2.8", NULL)).found; i++)
		run_for(0.01);
	cr_assert_eq(a.found, 1);
	cache_close(c);
}

Test(redis, down_at_startup_is_not_an_error)
{
	struct cache *c;
	int	async;

	if (!find_redis())
		cr_skip_test("redis-server is not installed");
	c = open_spec("redis:127.0.0.1:23105");
	run_for(0.2);
	cr_assert_eq(lookup(c, "192.0.2.1", &async).found, 0);
	cr_assert_not(async, "a miss at once while down");
	cr_assert_eq(log_has("warning: cache redis:127.0.0.1:23105: connect"), 1);
	redis_start(23105, NULL);
	cr_assert(wait_up(c, 10), "connects once the server is there");
	cache_close(c);
}

Test(redis, password_and_unix_socket)
{
	struct cache_record r = fresh_record();
	struct cache *c;
	struct answer a;
	char	spec[400];
	int	i;

	redis_start(0, "s3cret");
	snprintf(spec, sizeof(spec), "redis:unix:%s?password=s3cret&db=2&prefix=", sockpath);
	c = open_spec(spec);
	cr_assert(wait_up(c, 3));
	cache_update(c, "2001:db8::5", &r);
	for (i = 0; i < 100 && !(a = lookup(c, "2001:db8::5", NULL)).found; i++)
		run_for(0.01);
	cr_assert_eq(a.found, 1);
	cache_close(c);

	/* The wrong password: never up, only misses, a warning. */
	snprintf(spec, sizeof(spec), "redis:unix:%s?password=wrong", sockpath);
	c = open_spec(spec);
	cr_assert_not(wait_up(c, 1));
	cr_assert_geq(log_has("WRONGPASS"), 1);
	cache_close(c);
}

Test(redis, bad_addresses_are_startup_errors)
{
	static const char *bad[] = {
		"redis:", "redis:127.0.0.1", "redis:127.0.0.1:0", "redis:127.0.0.1:99999",
		"redis:mx.example.com:6379", "redis:[::1:6379", "redis:unix:relative/path",
		"redis:127.0.0.1:6379?bogus=1", "redis:127.0.0.1:6379?timeout=fast",
		"redis:127.0.0.1:6379?db=x", "redis:127.0.0.1:6379?password",
	};
	struct conf_err err;
	size_t	i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_null(cache_open_spec(loop, conf, bad[i], &err), "%s accepted", bad[i]);
		cr_assert_neq(err.reason[0], '\0');
		cr_assert(strstr(err.reason, "screen_cache_map") != NULL, "%s", err.reason);
	}
}

static struct cache *closing;
static int close_calls;

static void
close_cb(void *arg, int found, const struct cache_record *rec)
{
	(void)arg;
	(void)found;
	(void)rec;
	close_calls++;
	if (closing != NULL) {
		struct cache *c = closing;

		closing = NULL;
		cache_close(c);
	}
}

Test(redis, close_from_a_callback)
{
	redis_start(23106, NULL);
	closing = open_spec("redis:127.0.0.1:23106");
	cr_assert(wait_up(closing, 3));
	/* Two in flight: the first answer closes the cache, the second gets a miss. */
	cr_assert_not_null(cache_lookup(closing, "192.0.2.1", close_cb, NULL));
	cr_assert_not_null(cache_lookup(closing, "192.0.2.2", close_cb, NULL));
	run_for(0.5);
	cr_assert_null(closing);
	cr_assert_eq(close_calls, 2);
}
