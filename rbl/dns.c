/*
 * dns - the DNSBL resolver: query names, packets built and parsed with
 * ldns, and UDP transactions on the libev loop.
 *
 * Every try is a fresh non-blocking UDP socket bound to a random port
 * and connect()ed to the server, so the kernel drops datagrams from any
 * other address or port; the query ID comes from getrandom().  A packet
 * is the answer only if it is a reply (QR) to a standard query with our
 * ID and exactly our question; anything else is counted and ignored, and
 * the transaction keeps waiting (an off-path attacker must not be able
 * to end a lookup early).  One retry goes out at half the budget, to
 * the next server; both tries stay open until the budget is spent.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <ldns/ldns.h>

#include "conf/log.h"
#include "rbl/rbl_int.h"

#define RBL_UDP_MAX	1232	/* we send no EDNS: 512 would do; be lenient */

int
rbl_query_name(const struct sockaddr *sa, const char *domain, char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *b;
	char *p = buf;
	int i, n;

	if (sa->sa_family == AF_INET) {
		b = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
		n = snprintf(buf, len, "%u.%u.%u.%u.%s", b[3], b[2], b[1], b[0], domain);
		return n < 0 || (size_t)n >= len ? -1 : 0;
	}
	if (sa->sa_family != AF_INET6)
		return -1;
	b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
	if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)b)) {
		n = snprintf(buf, len, "%u.%u.%u.%u.%s", b[15], b[14], b[13], b[12], domain);
		return n < 0 || (size_t)n >= len ? -1 : 0;
	}
	if (len < 64 + strlen(domain) + 1)
		return -1;
	for (i = 15; i >= 0; i--) {
		*p++ = hex[b[i] & 0xf];
		*p++ = '.';
		*p++ = hex[b[i] >> 4];
		*p++ = '.';
	}
	strcpy(p, domain);
	return 0;
}

int
rbl_dns_build(const char *qname, int qtype, uint16_t id, uint8_t **wire, size_t *len)
{
	ldns_pkt *pkt = NULL;
	ldns_status st;

	st = ldns_pkt_query_new_frm_str(&pkt, qname, (ldns_rr_type)qtype,
	    LDNS_RR_CLASS_IN, LDNS_RD);
	if (st != LDNS_STATUS_OK || pkt == NULL)
		return -1;
	ldns_pkt_set_id(pkt, id);
	st = ldns_pkt2wire(wire, pkt, len);
	ldns_pkt_free(pkt);
	return st == LDNS_STATUS_OK ? 0 : -1;
}

/* Case-insensitive name comparison, trailing dots ignored. */
static int
same_name(const ldns_rdf *rdf, const char *name)
{
	char *s = ldns_rdf2str(rdf);
	size_t a, b;
	int eq;

	if (s == NULL)
		return 0;
	a = strlen(s);
	b = strlen(name);
	if (a > 0 && s[a - 1] == '.')
		a--;
	if (b > 0 && name[b - 1] == '.')
		b--;
	eq = a == b && strncasecmp(s, name, a) == 0;
	free(s);
	return eq;
}

/* The negative TTL of an answer: min(SOA TTL, SOA minimum) (RFC 2308). */
static long
negative_ttl(const ldns_pkt *pkt)
{
	ldns_rr_list *auth = ldns_pkt_authority(pkt);
	long best = -1;
	size_t i;

	for (i = 0; auth && i < ldns_rr_list_rr_count(auth); i++) {
		ldns_rr *rr = ldns_rr_list_rr(auth, i);
		ldns_rdf *min;
		long t;

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA || ldns_rr_rd_count(rr) < 7)
			continue;
		t = ldns_rr_ttl(rr);
		min = ldns_rr_rdf(rr, 6);
		/* ldns types the SOA minimum as a PERIOD: any 4-byte field will do. */
		if (min && ldns_rdf_size(min) == 4 && (long)ldns_rdf2native_int32(min) < t)
			t = ldns_rdf2native_int32(min);
		if (best < 0 || t < best)
			best = t;
	}
	return best;
}

/* Append a TXT record's strings to ans->txt, " / " between records. */
static void
add_txt(struct rbl_answer *ans, const ldns_rr *rr)
{
	size_t used = strlen(ans->txt), k;

	if (used > 0 && used + 3 < sizeof(ans->txt)) {
		strcpy(ans->txt + used, " / ");
		used += 3;
	}
	for (k = 0; k < ldns_rr_rd_count(rr); k++) {
		const ldns_rdf *rd = ldns_rr_rdf(rr, k);
		const uint8_t *d;
		size_t n;

		if (ldns_rdf_get_type(rd) != LDNS_RDF_TYPE_STR || ldns_rdf_size(rd) < 1)
			continue;
		d = ldns_rdf_data(rd);
		n = d[0];
		if (n > ldns_rdf_size(rd) - 1)
			n = ldns_rdf_size(rd) - 1;
		if (n > sizeof(ans->txt) - 1 - used)
			n = sizeof(ans->txt) - 1 - used;
		memcpy(ans->txt + used, d + 1, n);
		used += n;
		ans->txt[used] = '\0';
	}
	rbl_sanitize(ans->txt);
}

int
rbl_dns_parse(const uint8_t *wire, size_t len, uint16_t id, const char *qname,
    int qtype, struct rbl_answer *ans, const char **why)
{
	ldns_pkt *pkt = NULL;
	ldns_rr_list *q, *an;
	ldns_rr *qrr;
	char owner[256];
	size_t i;
	int hops = 0;

	memset(ans, 0, sizeof(*ans));
	ans->ttl = -1;
	if (len < 12 || len > 65535) {
		*why = "short packet";
		return -1;
	}
	/* Cheap header checks before parsing anything. */
	if (((wire[0] << 8) | wire[1]) != id) {
		*why = "wrong ID";
		return -1;
	}
	if (ldns_wire2pkt(&pkt, wire, len) != LDNS_STATUS_OK || pkt == NULL) {
		*why = "malformed packet";
		return -1;
	}
	if (!ldns_pkt_qr(pkt) || ldns_pkt_get_opcode(pkt) != LDNS_PACKET_QUERY) {
		*why = "not a reply to a query";
		goto ignore;
	}
	q = ldns_pkt_question(pkt);
	if (q == NULL || ldns_rr_list_rr_count(q) != 1) {
		*why = "wrong question count";
		goto ignore;
	}
	qrr = ldns_rr_list_rr(q, 0);
	if ((int)ldns_rr_get_type(qrr) != qtype || ldns_rr_get_class(qrr) != LDNS_RR_CLASS_IN ||
	    !same_name(ldns_rr_owner(qrr), qname)) {
		*why = "wrong question";
		goto ignore;
	}
	ans->rcode = ldns_pkt_get_rcode(pkt);
	if (ldns_pkt_tc(pkt)) {
		ans->status = RBL_FAILED;
		ans->why = "truncated answer (TC)";
		goto done;
	}
	if (ans->rcode == LDNS_RCODE_NXDOMAIN) {
		ans->status = RBL_UNLISTED;
		ans->ttl = negative_ttl(pkt);
		goto done;
	}
	if (ans->rcode != LDNS_RCODE_NOERROR) {
		ans->status = RBL_FAILED;
		ans->why = ans->rcode == LDNS_RCODE_SERVFAIL ? "SERVFAIL" :
		    ans->rcode == LDNS_RCODE_REFUSED ? "REFUSED" : "error rcode";
		goto done;
	}
	/*
	 * Records count only if their owner is our name, or the end of a
	 * CNAME chain that starts at it (a recursive resolver may send
	 * one).  Anything else in the section is ignored.
	 */
	snprintf(owner, sizeof(owner), "%s", qname);
	an = ldns_pkt_answer(pkt);
again:
	for (i = 0; an && i < ldns_rr_list_rr_count(an); i++) {
		ldns_rr *rr = ldns_rr_list_rr(an, i);

		if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN || !same_name(ldns_rr_owner(rr), owner))
			continue;
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME && hops < 8 && ldns_rr_rd_count(rr) == 1) {
			char *t = ldns_rdf2str(ldns_rr_rdf(rr, 0));

			if (t && strlen(t) < sizeof(owner)) {
				strcpy(owner, t);
				free(t);
				hops++;
				goto again;
			}
			free(t);
			continue;
		}
		if ((int)ldns_rr_get_type(rr) != qtype)
			continue;
		if (qtype == LDNS_RR_TYPE_A) {
			const ldns_rdf *rd = ldns_rr_rd_count(rr) == 1 ? ldns_rr_rdf(rr, 0) : NULL;
			uint32_t a;

			if (rd == NULL || ldns_rdf_get_type(rd) != LDNS_RDF_TYPE_A || ldns_rdf_size(rd) != 4)
				continue;
			memcpy(&a, ldns_rdf_data(rd), 4);
			a = ntohl(a);
			if (ans->naddr < RBL_MAX_ADDRS)
				ans->addr[ans->naddr++] = a;
		} else if (qtype == LDNS_RR_TYPE_TXT) {
			add_txt(ans, rr);
		}
		if (ans->ttl < 0 || (long)ldns_rr_ttl(rr) < ans->ttl)
			ans->ttl = ldns_rr_ttl(rr);
	}
	if (ans->naddr > 0 || ans->txt[0]) {
		ans->status = RBL_LISTED;
	} else {
		ans->status = RBL_UNLISTED;	/* NOERROR, no data */
		ans->ttl = negative_ttl(pkt);
	}
done:
	ldns_pkt_free(pkt);
	return 0;
ignore:
	ldns_pkt_free(pkt);
	return -1;
}

/* ---- transactions ---- */

static void txn_finish(struct rbl_txn *, const struct rbl_answer *);

static void
try_close(struct rbl_txn *t, struct rbl_try *tr)
{
	if (tr->fd < 0)
		return;
	ev_io_stop(t->res->loop, &tr->io);
	close(tr->fd);
	tr->fd = -1;
}

/* A socket bound to a random port, connected to the server. */
static int
open_socket(const struct endpoint *srv)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	uint16_t port;
	int fd, i;

	fd = socket(srv->sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	for (i = 0; i < 8; i++) {
		if (getrandom(&port, sizeof(port), 0) != sizeof(port))
			break;
		port = 1024 + port % (65536 - 1024);
		memset(&ss, 0, sizeof(ss));
		ss.ss_family = srv->sa.ss_family;
		if (ss.ss_family == AF_INET) {
			((struct sockaddr_in *)&ss)->sin_port = htons(port);
			sl = sizeof(struct sockaddr_in);
		} else {
			((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
			sl = sizeof(struct sockaddr_in6);
		}
		if (bind(fd, (struct sockaddr *)&ss, sl) == 0)
			break;
	}
	/* No free random port in 8 tries: the kernel's own choice will do. */
	if (connect(fd, (const struct sockaddr *)&srv->sa, srv->salen) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
try_read(struct ev_loop *loop, ev_io *w, int revents)
{
	struct rbl_try *tr = w->data;
	struct rbl_txn *t = tr->txn;
	uint8_t buf[RBL_UDP_MAX];
	struct rbl_answer ans;
	struct sockaddr_storage from;
	socklen_t fl;
	const char *why;
	ssize_t n;
	int i;

	(void)loop;
	(void)revents;
	for (i = 0; i < 16; i++) {
		fl = sizeof(from);
		n = recvfrom(tr->fd, buf, sizeof(buf), MSG_TRUNC, (struct sockaddr *)&from, &fl);
		if (n < 0) {
			if (errno == ECONNREFUSED) {
				/* ICMP port unreachable: the server is down; wait for the retry. */
				continue;
			}
			return;
		}
		if ((size_t)n > sizeof(buf)) {
			if (t->ignored)
				(*t->ignored)++;
			continue;
		}
		if (rbl_dns_parse(buf, n, tr->id, t->qname, t->qtype, &ans, &why) < 0) {
			if (t->ignored)
				(*t->ignored)++;
			continue;
		}
		txn_finish(t, &ans);
		return;
	}
}

static int
try_send(struct rbl_txn *t, int k)
{
	struct rbl_resolver *r = t->res;
	struct rbl_try *tr = &t->try[k];
	uint8_t *wire = NULL;
	size_t len;
	ssize_t n;

	tr->txn = t;
	tr->server = (k == 0 ? 0 : 1) % r->nservers;
	if (getrandom(&tr->id, sizeof(tr->id), 0) != sizeof(tr->id))
		return -1;
	if ((tr->fd = open_socket(&r->servers[tr->server])) < 0) {
		r->dropped_socket++;
		return -1;
	}
	if (rbl_dns_build(t->qname, t->qtype, tr->id, &wire, &len) < 0) {
		try_close(t, tr);
		return -1;
	}
	n = send(tr->fd, wire, len, 0);
	free(wire);
	if (n != (ssize_t)len) {
		try_close(t, tr);
		return -1;
	}
	r->sent++;
	ev_io_init(&tr->io, try_read, tr->fd, EV_READ);
	tr->io.data = tr;
	ev_io_start(r->loop, &tr->io);
	return 0;
}

static void
txn_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct rbl_txn *t = w->data;
	struct rbl_answer ans;

	(void)loop;
	(void)revents;
	if (t->ntries == 1) {
		/* Half the budget is gone: the one retry, the rest of the budget. */
		t->ntries = 2;
		if (t->retries)
			(*t->retries)++;
		(void)try_send(t, 1);
		ev_timer_set(&t->timer, t->res->timeout / 2, 0.);
		ev_timer_start(t->res->loop, &t->timer);
		return;
	}
	memset(&ans, 0, sizeof(ans));
	ans.status = RBL_TIMEOUT;
	ans.ttl = -1;
	ans.why = "timeout";
	txn_finish(t, &ans);
}

static void
txn_send(struct rbl_txn *t)
{
	struct rbl_resolver *r = t->res;

	r->inflight++;
	t->ntries = 1;
	/* A failed send is not retried at once: the timer still runs the retry. */
	(void)try_send(t, 0);
	ev_timer_init(&t->timer, txn_timer, r->timeout / 2, 0.);
	t->timer.data = t;
	ev_timer_start(r->loop, &t->timer);
}

static void
txn_release(struct rbl_txn *t)
{
	struct rbl_resolver *r = t->res;
	int k;

	if (t->queued) {
		TAILQ_REMOVE(&r->waiting, t, wait);
		t->queued = 0;
		r->nwaiting--;
		ev_timer_stop(r->loop, &t->timer);
		return;
	}
	for (k = 0; k < 2; k++)
		try_close(t, &t->try[k]);
	ev_timer_stop(r->loop, &t->timer);
	if (t->ntries > 0) {
		t->ntries = 0;
		r->inflight--;
		/* A slot is free: start the oldest waiting question. */
		while (r->inflight < r->max_inflight && !TAILQ_EMPTY(&r->waiting)) {
			struct rbl_txn *w = TAILQ_FIRST(&r->waiting);

			TAILQ_REMOVE(&r->waiting, w, wait);
			w->queued = 0;
			r->nwaiting--;
			ev_timer_stop(r->loop, &w->timer);
			txn_send(w);
		}
	}
}

static void
txn_finish(struct rbl_txn *t, const struct rbl_answer *ans)
{
	struct rbl_answer copy = *ans;

	txn_release(t);
	t->done(t, &copy);
}

/* Queued question: the zero timer that keeps done() asynchronous. */
static void
txn_kick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct rbl_txn *t = w->data;
	struct rbl_answer ans;

	(void)loop;
	(void)revents;
	/* Only reached when no socket could be set up at all. */
	memset(&ans, 0, sizeof(ans));
	ans.status = RBL_FAILED;
	ans.ttl = -1;
	ans.why = "no DNS server";
	txn_finish(t, &ans);
}

void
rbl_txn_start(struct rbl_resolver *r, struct rbl_txn *t, const char *qname, int qtype)
{
	t->res = r;
	t->started = ev_now(r->loop);
	snprintf(t->qname, sizeof(t->qname), "%s", qname);
	t->qtype = qtype;
	t->try[0].fd = t->try[1].fd = -1;
	t->ntries = 0;
	t->queued = 0;
	if (r->nservers == 0) {
		ev_timer_init(&t->timer, txn_kick, 0., 0.);
		t->timer.data = t;
		ev_timer_start(r->loop, &t->timer);
		return;
	}
	if (r->inflight >= r->max_inflight) {
		/* Bounded in flight: wait for a slot (the budget starts when sent). */
		TAILQ_INSERT_TAIL(&r->waiting, t, wait);
		t->queued = 1;
		r->nwaiting++;
		ev_timer_init(&t->timer, txn_timer, 0., 0.);	/* not started */
		t->timer.data = t;
		return;
	}
	txn_send(t);
}

void
rbl_txn_cancel(struct rbl_txn *t)
{
	if (t->res == NULL)
		return;
	txn_release(t);
}

/* dns_servers "127.0.0.1:5300, [::1]:53, 192.0.2.1", or resolv.conf. */
static int
add_server(struct rbl_resolver *r, const char *text, char *why, size_t len)
{
	struct endpoint *ep;
	const char *err = NULL;
	socklen_t sl;

	if (r->nservers >= RBL_MAX_SERVERS)
		return 0;
	ep = &r->servers[r->nservers];
	memset(ep, 0, sizeof(*ep));
	if (addr_parse_ip(text, &ep->sa, &sl) == 0) {
		ep->salen = sl;
		if (ep->sa.ss_family == AF_INET)
			((struct sockaddr_in *)&ep->sa)->sin_port = htons(53);
		else
			((struct sockaddr_in6 *)&ep->sa)->sin6_port = htons(53);
	} else if (addr_parse_endpoint(text, ep, &err) < 0 ||
	    (ep->sa.ss_family != AF_INET && ep->sa.ss_family != AF_INET6)) {
		snprintf(why, len, "bad DNS server \"%.100s\": %s", text,
		    err ? err : "not an IP address");
		return -1;
	}
	r->nservers++;
	return 0;
}

int
rbl_resolver_init(struct rbl_resolver *r, struct ev_loop *loop, const char *servers,
    double timeout, char *why, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->loop = loop;
	r->timeout = timeout > 0 ? timeout : 10;
	r->max_inflight = 2000;
	TAILQ_INIT(&r->waiting);
	if (servers && *servers) {
		char *copy = strdup(servers), *tok, *save = NULL;

		if (copy == NULL)
			return -1;
		for (tok = strtok_r(copy, ", \t\n", &save); tok; tok = strtok_r(NULL, ", \t\n", &save))
			if (add_server(r, tok, why, len) < 0) {
				free(copy);
				return -1;
			}
		free(copy);
	} else {
		FILE *fp = fopen("/etc/resolv.conf", "r");
		char line[512], ns[256];

		while (fp && fgets(line, sizeof(line), fp))
			if (sscanf(line, " nameserver %255s", ns) == 1 &&
			    add_server(r, ns, why, len) < 0)
				msg_warn("/etc/resolv.conf: ignoring nameserver %s", ns);
		if (fp)
			fclose(fp);
		if (r->nservers == 0) {
			snprintf(why, len, "no dns_servers and no nameserver in /etc/resolv.conf");
			return -1;
		}
	}
	return 0;
}

void
rbl_resolver_fini(struct rbl_resolver *r)
{
	(void)r;
}
