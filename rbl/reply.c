/*
 * reply - the SMTP reply for a listed client: rbl_reply_maps (smtpd's
 * keys, tried in DESIGN §10's order), default_rbl_reply when the admin
 * set it, else postscreen's own "550 5.7.1 Service unavailable; client
 * [IP] blocked using DOMAIN" (521 under drop).
 *
 * The table is chosen with the config in force when the verdict is made,
 * so rbl_reply_maps = ${stress?texthash:/etc/doorman/rbl_reply_maps}
 * answers differently under stress.  Every table spec seen is opened
 * once and kept until rbl_free().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "conf/log.h"
#include "conf/table.h"
#include "rbl/rbl_int.h"

#define MALFORMED_REPLY	"450 4.7.1 Service unavailable"

struct rbl_table *
rbl_table_for(struct rbl *r, struct conf *conf, struct conf_err *err)
{
	const char *spec = rbl_conf_str(conf, "rbl_reply_maps", "");
	struct rbl_table *t;
	struct table *tab = NULL;

	for (t = r->tables; t; t = t->next)
		if (strcmp(t->spec, spec) == 0)
			return t;
	if (*spec && (tab = table_open(spec, err)) == NULL)
		return NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL || (t->spec = strdup(spec)) == NULL) {
		free(t);
		if (tab)
			table_close(tab);
		return NULL;
	}
	t->table = tab;
	t->next = r->tables;
	r->tables = t;
	if (conf_is_set(conf, "default_rbl_reply") &&
	    rbl_template_needs_txt(conf_raw(conf, "default_rbl_reply")))
		r->default_needs_txt = 1;
	return t;
}

int
rbl_prepare_conf(struct rbl *r, struct conf *conf, struct conf_err *err)
{
	return rbl_table_for(r, conf, err) == NULL ? -1 : 0;
}

/* The first key found for a (site, matched addresses, domain). */
static const char *
map_lookup(const struct table *tab, const char *site, int has_filter, const char *domain,
    const uint32_t *addr, int naddr, const char *addrs, char *key, size_t klen)
{
	const char *val;
	int i;

	if (has_filter && table_lookup(tab, site, &val)) {
		snprintf(key, klen, "%s", site);
		return val;
	}
	if (addr != NULL) {
		for (i = 0; i < naddr; i++) {
			snprintf(key, klen, "%s=%u.%u.%u.%u", domain, addr[i] >> 24,
			    (addr[i] >> 16) & 0xff, (addr[i] >> 8) & 0xff, addr[i] & 0xff);
			if (table_lookup(tab, key, &val))
				return val;
		}
	} else if (addrs != NULL) {
		const char *p = addrs;

		while (*p) {
			size_t n = strcspn(p, " ");

			snprintf(key, klen, "%s=%.*s", domain, (int)n, p);
			if (table_lookup(tab, key, &val))
				return val;
			p += n;
			while (*p == ' ')
				p++;
		}
	}
	if (table_lookup(tab, domain, &val)) {
		snprintf(key, klen, "%s", domain);
		return val;
	}
	return NULL;
}

int
rbl_zone_needs_txt(struct rbl *r, int zone, const struct rbl_answer *a)
{
	const struct rbl_zone *zn = &r->sites.zones[zone];
	uint32_t matched[RBL_MAX_ADDRS];
	struct rbl_table *t;
	char key[512];
	int i, n;

	for (i = 0; i < r->sites.nentries; i++) {
		const struct rbl_entry *e = &r->sites.entries[i];

		if (e->zone != zone || e->weight <= 0 ||
		    (n = rbl_entry_match(e, a->addr, a->naddr, matched)) == 0)
			continue;
		for (t = r->tables; t; t = t->next) {
			const char *v = t->table ? map_lookup(t->table, e->site, e->has_filter,
			    zn->domain, matched, n, NULL, key, sizeof(key)) : NULL;

			if (v ? rbl_template_needs_txt(v) : r->default_needs_txt)
				return 1;
		}
	}
	return 0;
}

const char *
rbl_reply_template(struct rbl *r, struct conf *conf, const struct rbl_verdict *v,
    char *source, size_t srclen, int *table_error)
{
	struct conf_err err;
	struct rbl_table *t;
	const char *val;
	char key[512];

	*table_error = 0;
	if ((t = rbl_table_for(r, conf, &err)) == NULL) {
		char ebuf[1024];

		msg_warn("rbl_reply_maps: %s", conf_err_format(&err, ebuf, sizeof(ebuf)));
		*table_error = 1;
		snprintf(source, srclen, "rbl_reply_maps lookup error");
		return NULL;
	}
	if (t->table && v->domain &&
	    (val = map_lookup(t->table, v->site, v->has_filter, v->domain, NULL, 0,
	    v->addrs ? v->addrs : "", key, sizeof(key))) != NULL) {
		snprintf(source, srclen, "%s key \"%s\"", table_name(t->table), key);
		return val;
	}
	if (conf_is_set(conf, "default_rbl_reply")) {
		snprintf(source, srclen, "default_rbl_reply");
		return conf_raw(conf, "default_rbl_reply");
	}
	snprintf(source, srclen, "postscreen's default reply");
	return NULL;
}

struct macro_ctx {
	const struct rbl_verdict *v;
	const char *ip;
	char	code[16];
	char	client[INET6_ADDRSTRLEN + 16];
	char	txt[RBL_TXT_MAX + 1];
};

static const char *
macro(void *vctx, const char *name)
{
	struct macro_ctx *m = vctx;

	if (strcmp(name, "rbl_code") == 0)
		return m->code;
	if (strcmp(name, "rbl_class") == 0)
		return "Client host";
	if (strcmp(name, "rbl_what") == 0 || strcmp(name, "client_address") == 0)
		return m->ip;
	if (strcmp(name, "rbl_domain") == 0)
		return m->v->shown ? m->v->shown : m->v->domain;
	if (strcmp(name, "rbl_reason") == 0 || strcmp(name, "rbl_txt") == 0)
		return m->v->txt ? m->txt : NULL;
	/* The screen does no reverse lookups: smtpd's name for that. */
	if (strcmp(name, "client_name") == 0 || strcmp(name, "reverse_client_name") == 0)
		return "unknown";
	if (strcmp(name, "client") == 0)
		return m->client;
	return NULL;
}

int
rbl_reply(struct rbl *r, struct conf *conf, const struct rbl_verdict *v,
    const struct sockaddr *client, int drop, char *buf, size_t len, int *hangup)
{
	struct macro_ctx m;
	struct conf_err err;
	const char *tmpl;
	char ip[INET6_ADDRSTRLEN], source[600], out[RBL_REPLY_MAX * 2 + 32];
	char *exp;
	int code, table_error;

	addr_ip_str(client, ip, sizeof(ip));
	tmpl = rbl_reply_template(r, conf, v, source, sizeof(source), &table_error);
	if (table_error) {
		code = 450;
		snprintf(out, sizeof(out), "%s", MALFORMED_REPLY);
	} else if (tmpl == NULL) {
		const char *d = v->shown ? v->shown : v->domain ? v->domain : "(none)";

		code = drop ? 521 : 550;
		snprintf(out, sizeof(out), "%d 5.7.1 Service unavailable; client [%s] blocked using %s",
		    code, ip, d);
	} else {
		memset(&m, 0, sizeof(m));
		m.v = v;
		m.ip = ip;
		snprintf(m.code, sizeof(m.code), "%ld", rbl_conf_int(conf, "maps_rbl_reject_code", 554));
		snprintf(m.client, sizeof(m.client), "unknown[%s]", ip);
		if (v->txt) {
			snprintf(m.txt, sizeof(m.txt), "%s", v->txt);
			rbl_sanitize(m.txt);
		}
		exp = conf_expand_with(tmpl, macro, &m, &err);
		if (exp == NULL) {
			msg_warn("rbl response code configuration error: %s (%s)", tmpl, err.reason);
			code = 450;
			snprintf(out, sizeof(out), "%s", MALFORMED_REPLY);
		} else {
			snprintf(out, sizeof(out), "%s", exp);
			free(exp);
			rbl_sanitize(out);
			if ((code = rbl_reply_check(out, sizeof(out))) < 0) {
				msg_warn("rbl response code configuration error: %s", out);
				code = 450;
				snprintf(out, sizeof(out), "%s", MALFORMED_REPLY);
			}
		}
	}
	snprintf(buf, len, "%s", out);
	if (hangup)
		*hangup = code == 421 || code == 521;
	return code;
}
