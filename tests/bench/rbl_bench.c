/*
 * rbl_bench - DNSBL verdicts per second for distinct clients against 3
 * zones on a local DNS server, and DNS queries per (client, zone).
 *
 *   rbl_bench PORT CLIENTS CONCURRENCY
 *
 * Expects a DNS server on 127.0.0.1:PORT serving zone1.test, zone2.test
 * and zone3.test (tests/bench/rbl-bench starts ../shared/bench/
 * dnsbl-zone.py).  Clients are 127.2.x.y, all distinct; up to
 * CONCURRENCY of them are in flight at once, each with 2 sessions that
 * must share its lookups.  Prints one JSON line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <ev.h>

#include "conf/conf.h"
#include "conf/log.h"
#include "rbl/rbl.h"

struct slot {
	struct rbl_lookup *l[2];
	int	done;
};

static struct rbl *rbl;
static long next_client, nclients, finished, listed;
static int inflight;

static void start(struct slot *);

static void
update(void *arg, const struct rbl_verdict *v)
{
	struct slot *s = arg;

	if (!v->complete || s->done)
		return;
	s->done = 1;
	finished++;
	if (v->score >= 1)
		listed++;
	rbl_lookup_cancel(s->l[0]);
	rbl_lookup_cancel(s->l[1]);
	inflight--;
	start(s);
}

static void
start(struct slot *s)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };

	if (next_client >= nclients)
		return;
	sin.sin_addr.s_addr = htonl(0x7f020000u + 1 + (uint32_t)next_client++);
	memset(s, 0, sizeof(*s));
	/* Two sessions of the same client: they must share one query per zone. */
	s->l[0] = rbl_lookup_start(rbl, (struct sockaddr *)&sin, update, s);
	s->l[1] = rbl_lookup_start(rbl, (struct sockaddr *)&sin, update, s);
	inflight++;
}

int
main(int argc, char **argv)
{
	struct conf *c;
	struct conf_err err;
	struct slot *slots;
	char servers[64];
	double t0, t1;
	int conc, i;

	if (argc != 4) {
		fprintf(stderr, "usage: rbl_bench PORT CLIENTS CONCURRENCY\n");
		return 2;
	}
	nclients = atol(argv[2]);
	conc = atoi(argv[3]);
	c = conf_create();
	snprintf(servers, sizeof(servers), "127.0.0.1:%s", argv[1]);
	conf_set(c, "dns_servers", servers);
	conf_set(c, "screen_dnsbl_sites", "zone1.test=127.0.0.[2..11]*2 zone1.test*1 "
	    "zone2.test*1 zone3.test=127.0.0.2");
	conf_set(c, "screen_dnsbl_timeout", "5s");
	if ((rbl = rbl_create(EV_DEFAULT, c, &err)) == NULL) {
		fprintf(stderr, "%s: %s\n", err.file, err.reason);
		return 1;
	}
	log_open("rbl_bench", "/dev/null");
	slots = calloc(conc, sizeof(*slots));
	t0 = ev_time();
	for (i = 0; i < conc; i++)
		start(&slots[i]);
	while (finished < nclients)
		ev_run(EV_DEFAULT, EVRUN_ONCE);
	t1 = ev_time();
	printf("{\"rbl_bench\": {\"clients\": %ld, \"zones\": 3, \"concurrency\": %d, "
	    "\"seconds\": %.3f, \"verdicts_per_second\": %.0f, \"listed\": %ld}}\n",
	    nclients, conc, t1 - t0, nclients / (t1 - t0), listed);
	rbl_stats_print(rbl, stderr);
	rbl_free(rbl);
	conf_free(c);
	free(slots);
	return 0;
}
