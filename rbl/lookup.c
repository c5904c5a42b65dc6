/*
 * lookup - one client's DNSBL lookups, shared by all its sessions.
 *
 * Clients live in a uthash table keyed by address.  The first session
 * of an address starts exactly one A question per distinct zone; later
 * sessions join the same client and its answers (postscreen's in-flight
 * de-duplication).  Every session holds its own rbl_lookup handle with
 * its callback; when the last handle is cancelled the client is freed,
 * its sockets closed, and late answers die with them.
 *
 * Callbacks are always made from a zero-delay timer of the handle, never
 * from inside rbl_lookup_start() or while walking the handle list, so a
 * callback may cancel any handle (its own included) safely.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <ldns/ldns.h>
#include <uthash.h>

#include "conf/log.h"
#include "rbl/rbl_int.h"

struct rbl_cq {				/* one (client, zone) */
	struct rbl_client *client;
	int	zone;
	struct rbl_answer *ans;		/* A answer, once in */
	struct rbl_txn *a, *t;		/* in flight */
	char   *txt;			/* TXT answer (only when needed) */
};

struct rbl_client {
	unsigned char key[17];		/* family byte + address */
	UT_hash_handle hh;
	struct rbl *rbl;
	char	ip[INET6_ADDRSTRLEN];
	struct sockaddr_storage sa;
	struct rbl_cq *cq;		/* one per zone */
	int	pending;
	int	errors;
	int	refs;
	LIST_HEAD(, rbl_lookup) handles;
	struct rbl_verdict v;
	char	addrs[RBL_MAX_ADDRS * 16];
};

struct rbl_lookup {
	struct rbl_client *client;
	rbl_update_fn *cb;
	void   *arg;
	ev_timer kick;
	int	last_score;
	int	told;			/* any callback made */
	int	told_complete;
	LIST_ENTRY(rbl_lookup) link;
};

static void
client_key(const struct sockaddr *sa, unsigned char key[17], struct sockaddr_storage *norm)
{
	memset(key, 0, 17);
	memset(norm, 0, sizeof(*norm));
	if (sa->sa_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)sa)->sin6_addr)) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)norm;

		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr + 12, 4);
	} else if (sa->sa_family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)norm;

		s4->sin_family = AF_INET;
		s4->sin_addr = ((const struct sockaddr_in *)sa)->sin_addr;
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)norm;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = ((const struct sockaddr_in6 *)sa)->sin6_addr;
	}
	key[0] = norm->ss_family == AF_INET ? 4 : 6;
	if (key[0] == 4)
		memcpy(key + 1, &((struct sockaddr_in *)norm)->sin_addr, 4);
	else
		memcpy(key + 1, &((struct sockaddr_in6 *)norm)->sin6_addr, 16);
}

/* Recompute the shared verdict from the answers in. */
static void
client_score(struct rbl_client *c)
{
	struct rbl *r = c->rbl;
	struct rbl_score sc;
	struct rbl_verdict *v = &c->v;
	int z, i;

	rbl_score_init(&sc);
	for (z = 0; z < r->sites.nzones; z++)
		if (c->cq[z].ans)
			rbl_score_add(&r->sites, z, c->cq[z].ans, &sc);
	memset(v, 0, sizeof(*v));
	v->score = sc.total;
	v->pending = c->pending;
	v->complete = c->pending == 0;
	v->errors = c->errors;
	v->ttl = rbl_score_ttl(&sc, r->min_ttl, r->max_ttl);
	c->addrs[0] = '\0';
	if (sc.best >= 0) {
		const struct rbl_entry *e = &r->sites.entries[sc.best];
		const struct rbl_zone *zn = &r->sites.zones[e->zone];
		size_t used = 0;

		v->site = e->site;
		v->domain = zn->domain;
		v->shown = zn->shown ? zn->shown : zn->domain;
		v->weight = e->weight;
		v->has_filter = e->has_filter;
		for (i = 0; i < sc.best_naddr; i++) {
			struct in_addr a = { htonl(sc.best_addr[i]) };
			char t[INET_ADDRSTRLEN];

			inet_ntop(AF_INET, &a, t, sizeof(t));
			used += snprintf(c->addrs + used, sizeof(c->addrs) - used, "%s%s",
			    used ? " " : "", t);
		}
		v->addrs = c->addrs;
		v->txt = c->cq[e->zone].txt;
	}
}

static void
kick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct rbl_lookup *l = w->data;
	struct rbl_client *c = l->client;

	(void)loop;
	(void)revents;
	if (l->told && l->last_score == c->v.score &&
	    (l->told_complete || !c->v.complete))
		return;
	l->told = 1;
	l->last_score = c->v.score;
	if (c->v.complete)
		l->told_complete = 1;
	l->cb(l->arg, &c->v);
}

static void
notify(struct rbl_client *c)
{
	struct rbl_lookup *l;

	client_score(c);
	LIST_FOREACH(l, &c->handles, link)
		if (!ev_is_active(&l->kick))
			ev_timer_start(c->rbl->loop, &l->kick);
}

static void
zone_failure(struct rbl *r, int z, const char *what)
{
	struct rbl_zone *zn = &r->sites.zones[z];
	double now = ev_now(r->loop);

	/* Ten failures in a row, logged at most once every 5 minutes. */
	if (++zn->failures >= 10 && (!zn->unhealthy || now - zn->unhealthy_logged >= 300)) {
		msg_warn("DNSBL zone %s is unhealthy: %d lookups in a row failed (last: %s);"
		    " its answers count as not listed", zn->domain, zn->failures, what);
		zn->unhealthy = 1;
		zn->unhealthy_logged = now;
	}
}

static void
zone_success(struct rbl *r, int z)
{
	struct rbl_zone *zn = &r->sites.zones[z];

	if (zn->unhealthy)
		msg_info("DNSBL zone %s answers again after %d failed lookups",
		    zn->domain, zn->failures);
	zn->unhealthy = 0;
	zn->failures = 0;
}

static void
log_failure(struct rbl *r, struct rbl_cq *q, const struct rbl_answer *a, const char *qname,
    const char *type)
{
	struct rbl_zone *zn = &r->sites.zones[q->zone];
	int ok;

	if (a->status == RBL_TIMEOUT)
		zn->st.timeouts++;
	else
		zn->st.errors++;
	zone_failure(r, q->zone, a->why ? a->why : "error");
	ok = rbl_throttle_ok(&zn->fail_log, ev_now(r->loop), 60, 20);
	if (!ok)
		return;
	if (zn->fail_log.suppressed) {
		msg_warn("%s: %lu lookup failures not logged in the last minute",
		    zn->domain, zn->fail_log.suppressed);
		zn->fail_log.suppressed = 0;
	}
	if (a->status == RBL_TIMEOUT)
		msg_warn("dnsblog reply timeout %lds for %s", (long)(r->timeout + 0.5), zn->domain);
	else
		msg_warn("dnsblog_query: lookup error for DNS query %s%s: %s",
		    qname, type, a->why ? a->why : "error");
}

static void
txt_done(struct rbl_txn *t, const struct rbl_answer *a)
{
	struct rbl_cq *q = t->ctx;
	struct rbl_client *c = q->client;
	char qname[256];

	snprintf(qname, sizeof(qname), "%s", t->qname);
	q->t = NULL;
	free(t);
	c->pending--;
	if (a->status == RBL_LISTED && a->txt[0])
		q->txt = strdup(a->txt);
	else if (a->status == RBL_FAILED || a->status == RBL_TIMEOUT)
		log_failure(c->rbl, q, a, qname, " TXT");
	notify(c);
}

static struct rbl_txn *
new_txn(struct rbl_cq *q, void (*done)(struct rbl_txn *, const struct rbl_answer *))
{
	struct rbl_txn *t = calloc(1, sizeof(*t));
	struct rbl_zone *zn = &q->client->rbl->sites.zones[q->zone];

	if (t == NULL)
		return NULL;
	t->done = done;
	t->ctx = q;
	t->ignored = &zn->st.ignored;
	t->retries = &zn->st.retries;
	zn->st.queries++;
	return t;
}

static void
a_done(struct rbl_txn *t, const struct rbl_answer *a)
{
	struct rbl_cq *q = t->ctx;
	struct rbl_client *c = q->client;
	struct rbl *r = c->rbl;
	struct rbl_zone *zn = &r->sites.zones[q->zone];
	char qname[256];
	int i, real = 0;

	snprintf(qname, sizeof(qname), "%s", t->qname);
	if (a->status != RBL_FAILED && a->status != RBL_TIMEOUT) {
		zn->st.answered++;
		zn->st.latency_sum += ev_now(r->loop) - t->started;
	}
	q->a = NULL;
	free(t);
	c->pending--;
	/* Held per client while its sessions last: keep it small, no TXT. */
	if ((q->ans = malloc(RBL_ANSWER_A_SIZE)) == NULL) {
		notify(c);
		return;
	}
	memcpy(q->ans, a, RBL_ANSWER_A_SIZE);
	q->ans->txt[0] = '\0';
	if (a->status == RBL_FAILED || a->status == RBL_TIMEOUT) {
		c->errors++;	/* counts as not listed */
		log_failure(r, q, a, qname, "");
	} else if (a->status == RBL_UNLISTED) {
		zn->st.unlisted++;
		zone_success(r, q->zone);
	} else {
		for (i = 0; i < a->naddr; i++) {
			struct in_addr ia = { htonl(a->addr[i]) };
			char t4[INET_ADDRSTRLEN];

			inet_ntop(AF_INET, &ia, t4, sizeof(t4));
			if (!rbl_addr_is_error(a->addr[i])) {
				real++;
				msg_info_tag(r->dnsblog_tag, "addr %s listed by domain %s as %s",
				    c->ip, zn->domain, t4);
				continue;
			}
			zn->st.error_codes++;
			/* Once per zone per 10 minutes: a refusing zone answers every query so. */
			if (rbl_throttle_ok(&zn->errcode_log, ev_now(r->loop), 600, 1)) {
				char more[80] = "";

				if (zn->errcode_log.suppressed)
					snprintf(more, sizeof(more), " (%lu more since the last warning)",
					    zn->errcode_log.suppressed);
				msg_warn("%s answered error code %s for %s (%s): not a listing,"
				    " it adds no weight unless a filter names it%s",
				    zn->domain, t4, qname, rbl_addr_error_meaning(a->addr[i]), more);
				zn->errcode_log.suppressed = 0;
			}
		}
		if (real > 0) {
			zn->st.listed++;
			zone_success(r, q->zone);
		} else {
			/* Only error codes: a failing zone, and no TTL to trust. */
			q->ans->ttl = -1;
			zone_failure(r, q->zone, "error code");
		}
		if (real > 0 && (r->always_txt || rbl_zone_needs_txt(r, q->zone, a)) &&
		    (q->t = new_txn(q, txt_done)) != NULL) {
			c->pending++;
			rbl_txn_start(&r->res, q->t, qname, LDNS_RR_TYPE_TXT);
		}
	}
	if (r->observer)
		r->observer(r->observer_ctx, c, q->zone);
	notify(c);
}

static void
client_free(struct rbl_client *c)
{
	struct rbl *r = c->rbl;
	int z;

	HASH_DEL(r->clients, c);
	r->nclients--;
	for (z = 0; z < r->sites.nzones; z++) {
		struct rbl_cq *q = &c->cq[z];

		if (q->a) {
			rbl_txn_cancel(q->a);
			free(q->a);
		}
		if (q->t) {
			rbl_txn_cancel(q->t);
			free(q->t);
		}
		free(q->ans);
		free(q->txt);
	}
	free(c->cq);
	free(c);
}

struct rbl_lookup *
rbl_lookup_start(struct rbl *r, const struct sockaddr *sa, rbl_update_fn *cb, void *arg)
{
	struct rbl_client *c;
	struct rbl_lookup *l;
	unsigned char key[17];
	struct sockaddr_storage norm;
	int z;

	if (r == NULL || r->sites.nzones == 0 ||
	    (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
		return NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	client_key(sa, key, &norm);
	HASH_FIND(hh, r->clients, key, sizeof(key), c);
	if (c != NULL) {
		r->joins++;
	} else {
		char qname[256];

		if ((c = calloc(1, sizeof(*c))) == NULL ||
		    (c->cq = calloc(r->sites.nzones, sizeof(*c->cq))) == NULL) {
			free(c);
			free(l);
			return NULL;
		}
		memcpy(c->key, key, sizeof(key));
		c->rbl = r;
		c->sa = norm;
		addr_ip_str((struct sockaddr *)&norm, c->ip, sizeof(c->ip));
		LIST_INIT(&c->handles);
		HASH_ADD(hh, r->clients, key, sizeof(c->key), c);
		r->nclients++;
		r->lookups++;
		for (z = 0; z < r->sites.nzones; z++) {
			struct rbl_cq *q = &c->cq[z];

			q->client = c;
			q->zone = z;
			if (rbl_query_name((struct sockaddr *)&norm, r->sites.zones[z].domain,
			    qname, sizeof(qname)) < 0 || (q->a = new_txn(q, a_done)) == NULL)
				continue;
			c->pending++;
			rbl_txn_start(&r->res, q->a, qname, LDNS_RR_TYPE_A);
		}
		client_score(c);
	}
	l->client = c;
	l->cb = cb;
	l->arg = arg;
	ev_timer_init(&l->kick, kick_cb, 0., 0.);
	l->kick.data = l;
	LIST_INSERT_HEAD(&c->handles, l, link);
	c->refs++;
	/* A joiner learns what is known so far (asynchronously). */
	if (c->v.complete || c->v.score != 0)
		ev_timer_start(r->loop, &l->kick);
	return l;
}

const struct rbl_verdict *
rbl_lookup_verdict(const struct rbl_lookup *l)
{
	return &l->client->v;
}

void
rbl_lookup_cancel(struct rbl_lookup *l)
{
	struct rbl_client *c;

	if (l == NULL)
		return;
	c = l->client;
	ev_timer_stop(c->rbl->loop, &l->kick);
	LIST_REMOVE(l, link);
	free(l);
	if (--c->refs == 0)
		client_free(c);
}

const struct rbl_answer *
rbl_client_answer(const struct rbl_client *c, int zone)
{
	return c->cq[zone].ans;
}

const char *
rbl_client_txt(const struct rbl_client *c, int zone)
{
	return c->cq[zone].txt;
}

struct rbl_client *
rbl_lookup_client(const struct rbl_lookup *l)
{
	return l->client;
}

const char *
rbl_client_qname(const struct rbl_client *c, int zone, char *buf, size_t len)
{
	if (rbl_query_name((const struct sockaddr *)&c->sa, c->rbl->sites.zones[zone].domain,
	    buf, len) < 0)
		return NULL;
	return buf;
}

void
rbl_clients_free(struct rbl *r)
{
	struct rbl_client *c, *tmp;

	HASH_ITER(hh, r->clients, c, tmp) {
		struct rbl_lookup *l;

		while ((l = LIST_FIRST(&c->handles)) != NULL) {
			ev_timer_stop(r->loop, &l->kick);
			LIST_REMOVE(l, link);
			free(l);
		}
		client_free(c);
	}
}
