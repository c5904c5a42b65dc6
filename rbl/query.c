/*
 * query - `doorman query IP`: one client through every DNSBL/DNSWL of
 * the live config, against the real DNS servers, printed for a human:
 * per zone the query name, the answer (addresses, TTL, TXT) and which
 * entries matched with their weights; then the score, the verdict and
 * the exact reply, with the map key it came from.  This is how an admin
 * tunes rbl_reply_maps, so the output favours clarity over parsing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "conf/conf.h"
#include "conf/log.h"
#include "rbl/rbl_int.h"

struct qstate {
	struct ev_loop *loop;
	int	done;
};

static void
query_update(void *arg, const struct rbl_verdict *v)
{
	struct qstate *q = arg;

	if (v->complete) {
		q->done = 1;
		ev_break(q->loop, EVBREAK_ALL);
	}
}

static void
ip4(uint32_t a, char *buf, size_t len)
{
	struct in_addr ia = { htonl(a) };

	inet_ntop(AF_INET, &ia, buf, len);
}

static void
print_zone(FILE *out, struct rbl *r, struct rbl_client *c, int z)
{
	const struct rbl_zone *zn = &r->sites.zones[z];
	const struct rbl_answer *a = rbl_client_answer(c, z);
	const char *txt = rbl_client_txt(c, z);
	char qname[300], t[INET_ADDRSTRLEN];
	int i;

	fprintf(out, "%s", zn->domain);
	if (zn->shown && strcmp(zn->shown, zn->domain) != 0)
		fprintf(out, "  (shown in replies as %s)", zn->shown);
	fprintf(out, "\n  query    %s A\n",
	    rbl_client_qname(c, z, qname, sizeof(qname)) ? qname : "(name too long)");
	if (a == NULL) {
		fprintf(out, "  answer   none (no query could be sent)\n");
	} else if (a->status == RBL_TIMEOUT) {
		fprintf(out, "  answer   TIMEOUT after %gs (one retry at %gs): counts as not listed\n",
		    r->timeout, r->timeout / 2);
	} else if (a->status == RBL_FAILED) {
		fprintf(out, "  answer   ERROR %s: counts as not listed\n", a->why ? a->why : "");
	} else if (a->status == RBL_UNLISTED) {
		fprintf(out, "  answer   not listed (%s)", a->rcode == 3 ? "NXDOMAIN" : "no A record");
		if (a->ttl >= 0)
			fprintf(out, ", negative TTL %lds", a->ttl);
		fprintf(out, "\n");
	} else {
		fprintf(out, "  answer  ");
		for (i = 0; i < a->naddr; i++) {
			ip4(a->addr[i], t, sizeof(t));
			fprintf(out, " %s", t);
			if (rbl_addr_is_error(a->addr[i]))
				fprintf(out, " (ERROR CODE: %s)", rbl_addr_error_meaning(a->addr[i]));
		}
		if (a->ttl >= 0)
			fprintf(out, "  TTL %lds", a->ttl);
		fprintf(out, "\n");
		if (txt)
			fprintf(out, "  txt      \"%s\"\n", txt);
	}
	for (i = 0; i < r->sites.nentries; i++) {
		const struct rbl_entry *e = &r->sites.entries[i];
		uint32_t m[RBL_MAX_ADDRS];
		int n, k;

		if (e->zone != z)
			continue;
		n = a && a->status == RBL_LISTED ? rbl_entry_match(e, a->addr, a->naddr, m) : 0;
		if (n > 0) {
			fprintf(out, "  MATCH    %s*%d  -> %+d  (by", e->site, e->weight, e->weight);
			for (k = 0; k < n; k++) {
				ip4(m[k], t, sizeof(t));
				fprintf(out, " %s", t);
			}
			fprintf(out, ")\n");
		} else {
			fprintf(out, "  no match %s*%d\n", e->site, e->weight);
		}
	}
}

static void
print_reply(FILE *out, struct rbl *r, struct conf *conf, const struct rbl_verdict *v,
    const struct sockaddr *sa, int drop, const char *label)
{
	char reply[1024], source[600];
	int hangup = 0, terr;

	(void)rbl_reply_template(r, conf, v, source, sizeof(source), &terr);
	rbl_reply(r, conf, v, sa, drop, reply, sizeof(reply), &hangup);
	fprintf(out, "%-9s%s\n", label, reply);
	fprintf(out, "         (from %s%s)\n", source,
	    hangup ? "; 421/521: the connection is closed after it" : "");
}

int
rbl_query_command(struct conf *conf, const char *ip, FILE *out)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct conf_err err;
	struct qstate q = { 0 };
	struct rbl *r;
	struct rbl_lookup *l;
	struct rbl_client *c;
	const struct rbl_verdict *v;
	const char *action;
	char ebuf[1024];
	int z, i, drop, listed;

	if (addr_parse_ip(ip, &ss, &sl) < 0) {
		fprintf(stderr, "doorman query: not an IP address: %s\n", ip);
		return 2;
	}
	addr_unmap(&ss, &sl);
	if ((q.loop = ev_loop_new(EVFLAG_AUTO)) == NULL) {
		fprintf(stderr, "doorman query: cannot create an event loop\n");
		return 1;
	}
	if ((r = rbl_create(q.loop, conf, &err)) == NULL) {
		fprintf(stderr, "%s\n", conf_err_format(&err, ebuf, sizeof(ebuf)));
		ev_loop_destroy(q.loop);
		return 1;
	}
	r->always_txt = 1;
	if (!rbl_enabled(r)) {
		fprintf(out, "client %s: screen_dnsbl_sites is empty, no DNSBL/DNSWL lookups\n", ip);
		rbl_free(r);
		ev_loop_destroy(q.loop);
		return 0;
	}
	fprintf(out, "client %s: %d DNSBL/DNSWL zone%s, DNS server%s", ip, r->sites.nzones,
	    r->sites.nzones == 1 ? "" : "s", r->res.nservers == 1 ? "" : "s");
	for (i = 0; i < r->res.nservers; i++) {
		char s[ADDR_STRLEN];

		fprintf(out, " %s", addr_listener_str((struct sockaddr *)&r->res.servers[i].sa,
		    s, sizeof(s)));
	}
	fprintf(out, ", timeout %gs\n\n", r->timeout);
	l = rbl_lookup_start(r, (struct sockaddr *)&ss, query_update, &q);
	if (l == NULL) {
		fprintf(stderr, "doorman query: cannot start the lookups\n");
		rbl_free(r);
		ev_loop_destroy(q.loop);
		return 1;
	}
	while (!q.done)
		ev_run(q.loop, EVRUN_ONCE);
	c = rbl_lookup_client(l);
	v = rbl_lookup_verdict(l);
	for (z = 0; z < r->sites.nzones; z++) {
		print_zone(out, r, c, z);
		fprintf(out, "\n");
	}
	action = rbl_conf_str(conf, "screen_dnsbl_action", "ignore");
	drop = strcmp(action, "drop") == 0;
	listed = rbl_verdict_listed(r, v);
	fprintf(out, "score    %d  (screen_dnsbl_threshold %d", v->score, r->threshold);
	if (r->allowlist_threshold < 0)
		fprintf(out, ", screen_dnsbl_allowlist_threshold %d", r->allowlist_threshold);
	fprintf(out, ")\n");
	if (listed) {
		fprintf(out, "verdict  LISTED: \"DNSBL rank %d for [%s]:port\", screen_dnsbl_action = %s\n",
		    v->score, ip, action);
		fprintf(out, "         reply names %s (entry %s*%d, the largest matching weight)\n",
		    v->shown ? v->shown : "(none)", v->site ? v->site : "(none)", v->weight);
		print_reply(out, r, conf, v, (struct sockaddr *)&ss, drop,
		    strcmp(action, "ignore") == 0 ? "reply" : "reply");
		if (strcmp(action, "ignore") == 0)
			fprintf(out, "         (action ignore: logged only, the client is not refused)\n");
		/* ${stress?...} in the reply settings: show the stress reply too. */
		if (!*rbl_conf_str(conf, "stress", "") &&
		    ((conf_raw(conf, "rbl_reply_maps") && strstr(conf_raw(conf, "rbl_reply_maps"), "stress")) ||
		    (conf_raw(conf, "default_rbl_reply") && strstr(conf_raw(conf, "default_rbl_reply"), "stress")))) {
			conf_set(conf, "stress", "yes");
			print_reply(out, r, conf, v, (struct sockaddr *)&ss, drop, "stress");
			conf_set(conf, "stress", "");
		}
	} else if (rbl_verdict_allowlisted(r, v)) {
		fprintf(out, "verdict  ALLOWLISTED: score %d <= %d, passes as soon as DNS has answered\n",
		    v->score, r->allowlist_threshold);
	} else {
		fprintf(out, "verdict  not listed: passes the DNSBL test\n");
	}
	fprintf(out, "ttl      %lds (screen_dnsbl_min_ttl %lds, screen_dnsbl_max_ttl %lds)\n",
	    v->ttl, r->min_ttl, r->max_ttl);
	rbl_lookup_cancel(l);
	rbl_free(r);
	ev_loop_destroy(q.loop);
	return 0;
}
