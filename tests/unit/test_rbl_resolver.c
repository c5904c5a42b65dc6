/*
 * test_rbl_resolver - rbl/ against a real DNS server on loopback
 * (tests/integration/dns/rbl-test-server.py, dnslib): listed with
 * several codes, unlisted, DNSWL and the allowlist threshold, error
 * codes, timeouts and the retry, wrong ID, another port, garbage, TC,
 * SERVFAIL, a dead server, TXT only when a reply needs it, and 100
 * concurrent sessions of one client making exactly one query per zone.
 *
 * Each test starts its own server on a port in 22100-22899 and kills it
 * at the end; every wait is bounded.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <ev.h>
#include <ldns/ldns.h>

#include "conf/conf.h"
#include "conf/log.h"
#include "rbl/rbl.h"
#include "rbl/rbl_int.h"

#define SERVER	"tests/integration/dns/rbl-test-server.py"

static pid_t server_pid;
static int port;

/* One query to the server's control names; the TXT text, or "". */
static void
ctl(const char *name, char *out, size_t len)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct timeval tv = { 0, 300000 };
	uint8_t *wire = NULL, buf[1500];
	size_t wl;
	ssize_t n;
	ldns_pkt *p = NULL;
	int fd;

	out[0] = '\0';
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    rbl_dns_build(name, LDNS_RR_TYPE_TXT, 77, &wire, &wl) < 0 ||
	    send(fd, wire, wl, 0) < 0 || (n = recv(fd, buf, sizeof(buf), 0)) <= 0 ||
	    ldns_wire2pkt(&p, buf, n) != LDNS_STATUS_OK) {
		free(wire);
		close(fd);
		return;
	}
	if (ldns_pkt_ancount(p) > 0) {
		ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(p), 0);
		const ldns_rdf *rd = ldns_rr_rdf(rr, 0);
		size_t k = ldns_rdf_data(rd)[0];

		if (k >= len)
			k = len - 1;
		memcpy(out, ldns_rdf_data(rd) + 1, k);
		out[k] = '\0';
	}
	ldns_pkt_free(p);
	free(wire);
	close(fd);
}

static void
start_server(void)
{
	char pong[64], portstr[16];
	int attempt, i;

	for (attempt = 0; attempt < 5; attempt++) {
		port = 22100 + (getpid() * 7 + attempt * 131) % 800;
		snprintf(portstr, sizeof(portstr), "%d", port);
		server_pid = fork();
		cr_assert(server_pid >= 0);
		if (server_pid == 0) {
			execl("/usr/bin/python3", "python3", SERVER, "--port", portstr, "--zone", "dnsbl.test",
			    "--zone", "bl2.test", "--zone", "bl3.test", "--zone", "wl.test",
			    "--slow-ms", "3000", (char *)NULL);
			_exit(127);
		}
		for (i = 0; i < 60; i++) {	/* up to 3 s for python to start */
			usleep(50000);
			ctl("ping.ctl", pong, sizeof(pong));
			if (strcmp(pong, "pong") == 0)
				return;
			if (waitpid(server_pid, NULL, WNOHANG) == server_pid)
				break;		/* port taken: try another */
		}
		kill(server_pid, SIGTERM);
		waitpid(server_pid, NULL, 0);
	}
	cr_assert_fail("DNS test server did not start (needs /usr/bin/python3 with dnslib)");
}

static void
stop_server(void)
{
	if (server_pid > 0) {
		kill(server_pid, SIGTERM);
		waitpid(server_pid, NULL, 0);
		server_pid = 0;
	}
}

TestSuite(resolver, .init = start_server, .fini = stop_server, .timeout = 20);

static struct conf *
mkconf(const char *sites)
{
	struct conf *c = conf_create();
	char servers[64];

	snprintf(servers, sizeof(servers), "127.0.0.1:%d", port);
	conf_set(c, "dns_servers", servers);
	conf_set(c, "screen_dnsbl_sites", sites);
	conf_set(c, "screen_dnsbl_timeout", "1s");
	return c;
}

static struct rbl *
mkrbl(struct conf *c)
{
	struct conf_err err;
	struct rbl *r = rbl_create(EV_DEFAULT, c, &err);

	cr_assert(r != NULL, "%s:%d: %s", err.file, err.line, err.reason);
	return r;
}

struct result {
	int	calls;
	int	complete;
	int	score;
	int	errors;
	long	ttl;
	double	done_at;
	char	site[128];
	char	txt[512];
	int	in_start;
};

static void
update(void *arg, const struct rbl_verdict *v)
{
	struct result *res = arg;

	cr_assert(!res->in_start, "callback made inside rbl_lookup_start");
	res->calls++;
	res->score = v->score;
	res->errors = v->errors;
	res->ttl = v->ttl;
	snprintf(res->site, sizeof(res->site), "%s", v->site ? v->site : "");
	snprintf(res->txt, sizeof(res->txt), "%s", v->txt ? v->txt : "");
	if (v->complete) {
		res->complete = 1;
		res->done_at = ev_time();
	}
}

static void
deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

/* Run the loop until every result is complete or `secs` pass. */
static void
run_until(struct result *res, int n, double secs)
{
	ev_timer t;
	int i, all;

	ev_timer_init(&t, deadline, secs, 0.);
	ev_timer_start(EV_DEFAULT, &t);
	for (;;) {
		for (all = 1, i = 0; i < n; i++)
			all &= res[i].complete;
		if (all || !ev_is_active(&t))
			break;
		ev_run(EV_DEFAULT, EVRUN_ONCE);
	}
	ev_timer_stop(EV_DEFAULT, &t);
}

static struct sockaddr *
ip(const char *text)
{
	static struct sockaddr_storage ss;
	socklen_t sl;

	cr_assert_eq(addr_parse_ip(text, &ss, &sl), 0);
	return (struct sockaddr *)&ss;
}

/* One client, one session: the final result and its duration. */
static struct result
lookup(struct rbl *r, const char *client, double *secs)
{
	struct result res;
	struct rbl_lookup *l;
	double t0 = ev_time();

	memset(&res, 0, sizeof(res));
	res.in_start = 1;
	l = rbl_lookup_start(r, ip(client), update, &res);
	res.in_start = 0;
	cr_assert(l != NULL);
	run_until(&res, 1, 5);
	cr_assert(res.complete, "lookup of %s did not complete", client);
	if (secs)
		*secs = res.done_at - t0;
	rbl_lookup_cancel(l);
	return res;
}

Test(resolver, listed_several_codes_and_unlisted)
{
	struct conf *c = mkconf("dnsbl.test=127.0.0.[2..11]*3 dnsbl.test=127.0.0.10*2 dnsbl.test*1");
	struct rbl *r = mkrbl(c);
	struct result res;

	res = lookup(r, "127.0.1.4", NULL);
	cr_assert_eq(res.score, 4);
	cr_assert_str_eq(res.site, "dnsbl.test=127.0.0.[2..11]");
	cr_assert_eq(res.ttl, 300);
	res = lookup(r, "127.0.1.10", NULL);
	cr_assert_eq(res.score, 6);
	res = lookup(r, "127.0.1.24", NULL);
	cr_assert_eq(res.score, 4);
	res = lookup(r, "127.0.9.9", NULL);
	cr_assert_eq(res.score, 0);
	cr_assert_eq(res.errors, 0);
	cr_assert_eq(res.ttl, 120, "negative TTL from the SOA minimum");
	res = lookup(r, "2001:db8::1", NULL);
	cr_assert_eq(res.score, 0);
	cr_assert_eq(res.errors, 0);
	rbl_free(r);
	conf_free(c);
}

Test(resolver, error_codes_add_no_weight)
{
	struct conf *c = mkconf("dnsbl.test*3 wl.test*-2");
	struct rbl *r = mkrbl(c);
	const char *codes[] = { "127.0.3.252", "127.0.3.253", "127.0.3.254", "127.0.3.255", "127.0.3.1" };
	size_t i;

	for (i = 0; i < 5; i++)
		cr_assert_eq(lookup(r, codes[i], NULL).score, 0, "%s", codes[i]);
	cr_assert(r->sites.zones[0].st.error_codes >= 5);
	rbl_free(r);
	conf_free(c);
}

Test(resolver, dnswl_allowlist_passes_fast)
{
	struct conf *c = mkconf("dnsbl.test=127.0.0.[2..11]*1 wl.test=127.0.[0..255].[1..3]*-2");
	struct rbl *r;
	struct result res;
	double secs;

	conf_set(c, "screen_dnsbl_allowlist_threshold", "-1");
	r = mkrbl(c);
	res = lookup(r, "127.0.4.2", &secs);
	cr_assert_eq(res.score, -2);
	cr_assert(secs < 0.5, "took %.3fs", secs);
	{
		struct rbl_verdict v = { .score = res.score };

		cr_assert(rbl_verdict_allowlisted(r, &v));
		cr_assert(!rbl_verdict_listed(r, &v));
	}
	rbl_free(r);
	conf_free(c);
}

Test(resolver, timeouts_and_retry)
{
	struct conf *c = mkconf("dnsbl.test*3");
	struct rbl *r = mkrbl(c);
	struct result res;
	double secs;

	res = lookup(r, "127.0.5.1", &secs);		/* never answered */
	cr_assert_eq(res.score, 0);
	cr_assert_eq(res.errors, 1);
	cr_assert(secs >= 0.9 && secs < 1.5, "timeout took %.3fs", secs);
	res = lookup(r, "127.0.5.2", &secs);		/* answered after 3 s */
	cr_assert_eq(res.score, 0);
	cr_assert_eq(res.errors, 1);
	res = lookup(r, "127.0.5.3", &secs);		/* only the retry is answered */
	cr_assert_eq(res.score, 3);
	cr_assert(secs >= 0.45 && secs < 0.9, "retry answer after %.3fs", secs);
	cr_assert(r->sites.zones[0].st.retries >= 3);
	rbl_free(r);
	conf_free(c);
}

Test(resolver, spoofed_and_broken_answers)
{
	struct conf *c = mkconf("dnsbl.test*3");
	struct rbl *r = mkrbl(c);
	struct result res;

	res = lookup(r, "127.0.6.1", NULL);		/* wrong ID, then NXDOMAIN */
	cr_assert_eq(res.score, 0);
	cr_assert_eq(res.errors, 0);
	res = lookup(r, "127.0.6.2", NULL);		/* other port, then NXDOMAIN */
	cr_assert_eq(res.score, 0);
	cr_assert_eq(res.errors, 0);
	res = lookup(r, "127.0.6.3", NULL);		/* garbage, then NXDOMAIN */
	cr_assert_eq(res.score, 0);
	cr_assert_eq(res.errors, 0);
	res = lookup(r, "127.0.6.6", NULL);		/* other question, then NXDOMAIN */
	cr_assert_eq(res.score, 0);
	cr_assert_eq(res.errors, 0);
	cr_assert(r->sites.zones[0].st.ignored >= 3, "ignored %lu", r->sites.zones[0].st.ignored);
	res = lookup(r, "127.0.6.4", NULL);		/* TC */
	cr_assert_eq(res.score, 0);
	cr_assert_eq(res.errors, 1);
	res = lookup(r, "127.0.6.5", NULL);		/* SERVFAIL */
	cr_assert_eq(res.score, 0);
	cr_assert_eq(res.errors, 1);
	res = lookup(r, "127.0.6.7", NULL);		/* REFUSED */
	cr_assert_eq(res.score, 0);
	cr_assert_eq(res.errors, 1);
	rbl_free(r);
	conf_free(c);
}

Test(resolver, server_down)
{
	struct conf *c = mkconf("dnsbl.test*3 bl2.test*1");
	struct rbl *r;
	struct result res;
	double secs;

	conf_set(c, "dns_servers", "127.0.0.1:22999");	/* nobody there */
	r = mkrbl(c);
	res = lookup(r, "127.0.0.2", &secs);
	cr_assert_eq(res.score, 0);
	cr_assert_eq(res.errors, 2);
	cr_assert(secs < 1.5, "took %.3fs", secs);
	rbl_free(r);
	conf_free(c);
}

Test(resolver, one_query_per_domain_for_100_sessions)
{
	struct conf *c = mkconf("dnsbl.test=127.0.0.[2..11]*2 dnsbl.test*1 dnsbl.test=127.0.0.4 "
	    "bl2.test bl3.test=127.0.0.[1..255]*2 bl3.test");
	struct rbl *r = mkrbl(c);
	static struct result res[101];
	struct rbl_lookup *l[101];
	char count[128];
	int i;

	ctl("reset.ctl", count, sizeof(count));
	memset(res, 0, sizeof(res));
	for (i = 0; i < 100; i++) {
		res[i].in_start = 1;
		l[i] = rbl_lookup_start(r, ip("127.0.1.4"), update, &res[i]);
		res[i].in_start = 0;
		cr_assert(l[i] != NULL);
	}
	run_until(res, 100, 5);
	/* A late joiner gets the finished verdict without a new query. */
	l[100] = rbl_lookup_start(r, ip("127.0.1.4"), update, &res[100]);
	run_until(res + 100, 1, 2);
	for (i = 0; i <= 100; i++) {
		cr_assert(res[i].complete, "session %d", i);
		cr_assert_eq(res[i].score, 2 + 1 + 1 + 1 + 2 + 1, "session %d: %d", i, res[i].score);
	}
	ctl("count.ctl", count, sizeof(count));
	cr_assert_str_eq(count, "queries=3 names=3");
	for (i = 0; i <= 100; i++)
		rbl_lookup_cancel(l[i]);
	cr_assert_eq(r->nclients, 0);
	rbl_free(r);
	conf_free(c);
}

Test(resolver, txt_only_when_a_reply_needs_it)
{
	struct conf *c = mkconf("dnsbl.test*2");
	struct rbl *r = mkrbl(c);
	struct result res;
	char count[128], map[] = "/tmp/test_rbl_map.XXXXXX", spec[128], reply[600];
	FILE *fp;
	int fd, hang;

	ctl("reset.ctl", count, sizeof(count));
	res = lookup(r, "127.0.1.4", NULL);
	ctl("count.ctl", count, sizeof(count));
	cr_assert_str_eq(count, "queries=1 names=1", "no TXT without $rbl_reason");
	cr_assert_str_eq(res.txt, "");
	rbl_free(r);

	fd = mkstemp(map);
	fp = fdopen(fd, "w");
	fprintf(fp, "dnsbl.test=127.0.0.4  521 4.7.1 Go away${rbl_reason?; $rbl_reason}\n");
	fclose(fp);
	snprintf(spec, sizeof(spec), "texthash:%s", map);
	conf_set(c, "rbl_reply_maps", spec);
	r = mkrbl(c);
	ctl("reset.ctl", count, sizeof(count));
	{
		struct rbl_lookup *l;

		memset(&res, 0, sizeof(res));
		l = rbl_lookup_start(r, ip("127.0.1.4"), update, &res);
		run_until(&res, 1, 5);
		cr_assert_str_eq(res.txt, "127.0.1.4 listed in dnsbl.test");
		cr_assert_eq(rbl_reply(r, c, rbl_lookup_verdict(l), ip("127.0.1.4"), 0, reply,
		    sizeof(reply), &hang), 521);
		cr_assert_str_eq(reply, "521 5.7.1 Go away; 127.0.1.4 listed in dnsbl.test");
		cr_assert(hang);
		rbl_lookup_cancel(l);
	}
	ctl("count.ctl", count, sizeof(count));
	cr_assert_str_eq(count, "queries=2 names=2");
	/* The other code gets no TXT query. */
	ctl("reset.ctl", count, sizeof(count));
	res = lookup(r, "127.0.1.2", NULL);
	ctl("count.ctl", count, sizeof(count));
	cr_assert_str_eq(count, "queries=1 names=1");
	unlink(map);
	rbl_free(r);
	conf_free(c);
}

Test(resolver, cancel_drops_late_answers)
{
	struct conf *c = mkconf("dnsbl.test*3");
	struct rbl *r = mkrbl(c);
	struct result res;
	struct rbl_lookup *l;

	memset(&res, 0, sizeof(res));
	l = rbl_lookup_start(r, ip("127.0.0.2"), update, &res);
	rbl_lookup_cancel(l);
	cr_assert_eq(r->nclients, 0);
	run_until(&res, 1, 0.3);
	cr_assert_eq(res.calls, 0);
	rbl_free(r);
	conf_free(c);
}

Test(resolver, query_command_output)
{
	struct conf *c = mkconf("dnsbl.test=127.0.0.[2..11]*3 dnsbl.test*1 wl.test=127.0.[0..255].[1..3]*-2");
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	conf_set(c, "screen_dnsbl_action", "drop");
	cr_assert_eq(rbl_query_command(c, "127.0.1.4", out), 0);
	fclose(out);
	cr_assert(strstr(text, "query    4.1.0.127.dnsbl.test A"), "%s", text);
	cr_assert(strstr(text, "MATCH    dnsbl.test=127.0.0.[2..11]*3  -> +3"), "%s", text);
	cr_assert(strstr(text, "score    4"), "%s", text);
	cr_assert(strstr(text, "txt      \"127.0.1.4 listed in dnsbl.test\""), "%s", text);
	cr_assert(strstr(text, "521 5.7.1 Service unavailable; client [127.0.1.4] blocked using dnsbl.test"),
	    "%s", text);
	free(text);
	cr_assert_eq(rbl_query_command(c, "not-an-ip", stderr), 2);
	conf_free(c);
}

Test(resolver, check_redundant_and_dead_zones)
{
	struct conf *c = mkconf("zen.spamhaus.org=127.0.0.[2..11]*3 sbl.spamhaus.org xbl.spamhaus.org*2 "
	    "bl.spamcop.net");
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	cr_assert_eq(rbl_check_sites(c, 0, out), 2);
	conf_free(c);
	c = mkconf("dnsbl.test*3 unknown.test*1");
	cr_assert_eq(rbl_check_sites(c, 1, out), 1);
	fclose(out);
	cr_assert(strstr(text, "warning: screen_dnsbl_sites: sbl.spamhaus.org is redundant"), "%s", text);
	cr_assert(strstr(text, "unknown.test does not list the test address 127.0.0.2"), "%s", text);
	cr_assert(strstr(text, "dnsbl.test does not") == NULL, "%s", text);
	free(text);
	conf_free(c);
}
