/*
 * rbl - configuration, life cycle and counters of the DNSBL module.
 *
 * rbl_create() reads every parameter once; a bad screen_dnsbl_sites
 * entry, DNS server or table stops start-up with the file and line where
 * the admin wrote it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "conf/log.h"
#include "conf/table.h"
#include "rbl/rbl_int.h"

const char *
rbl_conf_str(struct conf *c, const char *name, const char *dflt)
{
	if (conf_raw(c, name) == NULL)
		return dflt;
	return conf_str(c, name);
}

long
rbl_conf_time(struct conf *c, const char *name, long dflt)
{
	if (conf_raw(c, name) == NULL)
		return dflt;
	return conf_time(c, name);
}

long
rbl_conf_int(struct conf *c, const char *name, long dflt)
{
	if (conf_raw(c, name) == NULL)
		return dflt;
	return conf_int(c, name);
}

int
rbl_throttle_ok(struct rbl_throttle *t, double now, double interval, int burst)
{
	if (t->count == 0 || now - t->start >= interval) {
		t->start = now;
		t->count = 0;
	}
	if (t->count < burst) {
		t->count++;
		return 1;
	}
	t->suppressed++;
	return 0;
}

/* err = where the admin defined name, and why. */
static void
set_err(struct conf *conf, struct conf_err *err, const char *name, const char *why)
{
	const char *file = NULL;
	int line = 0;

	if (err == NULL)
		return;
	memset(err, 0, sizeof(*err));
	conf_origin(conf, name, &file, &line);
	snprintf(err->file, sizeof(err->file), "%s", file ? file : "default");
	err->line = line;
	snprintf(err->reason, sizeof(err->reason), "%s: %s", name, why);
}

struct rbl *
rbl_create(struct ev_loop *loop, struct conf *conf, struct conf_err *err)
{
	struct rbl *r;
	const char *spec;
	char why[512];
	int z;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		set_err(conf, err, "screen_dnsbl_sites", "out of memory");
		return NULL;
	}
	r->loop = loop;
	r->conf = conf;
	snprintf(r->dnsblog_tag, sizeof(r->dnsblog_tag), "%s/dnsblog",
	    rbl_conf_str(conf, "syslog_name", "postfix-doorman"));
	if (rbl_sites_parse(&r->sites, rbl_conf_str(conf, "screen_dnsbl_sites", ""),
	    why, sizeof(why)) < 0) {
		set_err(conf, err, "screen_dnsbl_sites", why);
		free(r);
		return NULL;
	}
	r->threshold = rbl_conf_int(conf, "screen_dnsbl_threshold", 1);
	r->allowlist_threshold = rbl_conf_int(conf, "screen_dnsbl_allowlist_threshold", 0);
	r->timeout = rbl_conf_time(conf, "screen_dnsbl_timeout", 10);
	if (r->timeout < 1)
		r->timeout = 1;
	r->min_ttl = rbl_conf_time(conf, "screen_dnsbl_min_ttl", 60);
	r->max_ttl = rbl_conf_time(conf, "screen_dnsbl_max_ttl", 3600);
	if (r->max_ttl < r->min_ttl)
		r->max_ttl = r->min_ttl;

	/* screen_dnsbl_reply_map: the domain shown in replies (hides DQS keys). */
	spec = rbl_conf_str(conf, "screen_dnsbl_reply_map", "");
	if (*spec) {
		if ((r->shown_map = table_open(spec, err)) == NULL)
			goto bad;
		for (z = 0; z < r->sites.nzones; z++) {
			const char *v;

			if (table_lookup(r->shown_map, r->sites.zones[z].domain, &v))
				r->sites.zones[z].shown = strdup(v);
		}
	}
	if (r->sites.nzones > 0 &&
	    rbl_resolver_init(&r->res, loop, rbl_conf_str(conf, "dns_servers", ""),
	    r->timeout, why, sizeof(why)) < 0) {
		set_err(conf, err, "dns_servers", why);
		goto bad;
	}
	r->res.loop = loop;
	if (r->res.max_inflight == 0) {
		r->res.max_inflight = 1;
		TAILQ_INIT(&r->res.waiting);
	}
	if (rbl_table_for(r, conf, err) == NULL)
		goto bad;
	return r;
bad:
	rbl_free(r);
	return NULL;
}

void
rbl_free(struct rbl *r)
{
	struct rbl_table *t, *next;

	if (r == NULL)
		return;
	rbl_clients_free(r);
	rbl_resolver_fini(&r->res);
	for (t = r->tables; t; t = next) {
		next = t->next;
		if (t->table)
			table_close(t->table);
		free(t->spec);
		free(t);
	}
	if (r->shown_map)
		table_close(r->shown_map);
	rbl_sites_free(&r->sites);
	free(r);
}

int
rbl_enabled(const struct rbl *r)
{
	return r != NULL && r->sites.nzones > 0;
}

int
rbl_verdict_listed(const struct rbl *r, const struct rbl_verdict *v)
{
	return v->score >= r->threshold;
}

int
rbl_verdict_allowlisted(const struct rbl *r, const struct rbl_verdict *v)
{
	return r->allowlist_threshold < 0 && v->score <= r->allowlist_threshold &&
	    v->score < r->threshold;
}

void
rbl_stats_print(const struct rbl *r, FILE *out)
{
	int z;

	if (!rbl_enabled(r)) {
		fprintf(out, "dnsbl: disabled (screen_dnsbl_sites is empty)\n");
		return;
	}
	fprintf(out, "dnsbl: clients in flight %lu, lookups %lu, joined %lu, queries in flight %d,"
	    " waiting %d, packets sent %lu\n", r->nclients, r->lookups, r->joins,
	    r->res.inflight, r->res.nwaiting, r->res.sent);
	for (z = 0; z < r->sites.nzones; z++) {
		const struct rbl_zone *zn = &r->sites.zones[z];

		fprintf(out, "dnsbl zone %s: queries %lu retries %lu listed %lu unlisted %lu"
		    " timeouts %lu errors %lu error_codes %lu ignored_packets %lu"
		    " avg_latency %.1fms%s\n",
		    zn->domain, zn->st.queries, zn->st.retries, zn->st.listed, zn->st.unlisted,
		    zn->st.timeouts, zn->st.errors, zn->st.error_codes, zn->st.ignored,
		    zn->st.answered ? 1000.0 * zn->st.latency_sum / zn->st.answered : 0.0,
		    zn->unhealthy ? " UNHEALTHY" : "");
	}
}

int
rbl_idle(const struct rbl *r)
{
	return (r == NULL || r->nclients == 0);
}

void
rbl_metrics_print(const struct rbl *r, FILE *out)
{
	static const char *answers[] = { "listed", "unlisted", "timeout", "error" };
	unsigned long n[4];
	int z, i;

	if (!rbl_enabled(r))
		return;
	fprintf(out, "# HELP doorman_dnsbl_queries_total DNSBL/DNSWL lookups by zone and outcome.\n"
	    "# TYPE doorman_dnsbl_queries_total counter\n");
	for (z = 0; z < r->sites.nzones; z++) {
		const struct rbl_zone *zn = &r->sites.zones[z];

		n[0] = zn->st.listed;
		n[1] = zn->st.unlisted;
		n[2] = zn->st.timeouts;
		n[3] = zn->st.errors;
		for (i = 0; i < 4; i++)
			fprintf(out, "doorman_dnsbl_queries_total{domain=\"%s\",answer=\"%s\"} %lu\n",
			    zn->domain, answers[i], n[i]);
	}
	fprintf(out, "# HELP doorman_dnsbl_query_duration_seconds Time to an answer, by zone.\n"
	    "# TYPE doorman_dnsbl_query_duration_seconds summary\n");
	for (z = 0; z < r->sites.nzones; z++) {
		const struct rbl_zone *zn = &r->sites.zones[z];

		fprintf(out, "doorman_dnsbl_query_duration_seconds_sum{domain=\"%s\"} %.6f\n"
		    "doorman_dnsbl_query_duration_seconds_count{domain=\"%s\"} %lu\n",
		    zn->domain, zn->st.latency_sum, zn->domain, zn->st.answered);
	}
}
