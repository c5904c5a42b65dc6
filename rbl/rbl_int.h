/*
 * rbl_int - what the files of rbl/ share with each other and with their
 * unit tests and fuzz targets.  The screen includes only rbl/rbl.h.
 *
 *   site.c     screen_dnsbl_sites syntax, filters, scoring, TTL rules
 *   dns.c      query names, packets (ldns), answer checks, UDP transactions
 *   replycheck.c  smtpd's checks of an expanded reply
 *   lookup.c   per-client lookups shared by sessions, verdicts
 *   reply.c    rbl_reply_maps and default replies
 *   rbl.c      configuration, create/free, counters
 *   check.c    `doorman check`: redundant lists, zones that do not answer
 *   query.c    `doorman query IP`
 */
#ifndef DOORMAN_RBL_INT_H
#define DOORMAN_RBL_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <ev.h>

#include "conf/addr.h"
#include "rbl/rbl.h"

#define RBL_MAX_RANGES	32	/* n or n..m items in one filter octet */
#define RBL_MAX_ADDRS	16	/* A records kept from one answer */
#define RBL_TXT_MAX	500	/* $rbl_reason, as smtpd */
#define RBL_REPLY_MAX	510	/* SMTP reply cut, as smtpd */
#define RBL_MAX_SERVERS	8
#define RBL_DOMAIN_MAX	180	/* leaves room for 64 bytes of IPv6 nibbles */

/* ---- site.c ---- */

struct rbl_octet {
	int	n;
	unsigned char lo[RBL_MAX_RANGES], hi[RBL_MAX_RANGES];
};

struct rbl_entry {
	char   *site;		/* as written, without "*weight" */
	int	has_filter;
	struct rbl_octet oct[4];
	int	weight;
	int	zone;		/* index into rbl_sites.zones */
};

struct rbl_zone_stats {
	unsigned long queries;		/* A and TXT transactions started */
	unsigned long retries;
	unsigned long listed;
	unsigned long unlisted;
	unsigned long timeouts;
	unsigned long errors;		/* SERVFAIL, REFUSED, TC, ... */
	unsigned long error_codes;	/* 127.255.255.x and friends */
	unsigned long ignored;		/* spoofed, stray or garbage packets */
	unsigned long answered;		/* A lookups that got an answer */
	double	latency_sum;		/* seconds, over the answered ones */
};

/* Rate limit for log lines: at most `burst` per `interval` seconds. */
struct rbl_throttle {
	double	start;
	int	count;
	unsigned long suppressed;
};

struct rbl_zone {
	char   *domain;		/* as first written */
	char   *shown;		/* after screen_dnsbl_reply_map */
	int	max_weight, min_weight;
	struct rbl_zone_stats st;
	struct rbl_throttle errcode_log;
	struct rbl_throttle fail_log;
	int	failures;	/* consecutive failed lookups */
	int	unhealthy;
	double	unhealthy_logged;
};

struct rbl_sites {
	struct rbl_entry *entries;
	int	nentries;
	struct rbl_zone *zones;
	int	nzones;
};

/* Parse one "domain[=filter][*weight]".  0, or -1 and *why. */
int	rbl_site_parse(const char *text, struct rbl_entry *, char *why, size_t len);
/* Parse a filter "127.0.0.[2..11]" into oct[].  0 or -1. */
int	rbl_filter_parse(const char *text, struct rbl_octet oct[4]);
/* Parse a whole list (commas and/or white space).  0, or -1 and *why. */
int	rbl_sites_parse(struct rbl_sites *, const char *list, char *why, size_t len);
void	rbl_sites_free(struct rbl_sites *);

/* Answer addresses in host byte order (127.0.0.2 = 0x7f000002). */
int	rbl_addr_is_error(uint32_t addr);
const char *rbl_addr_error_meaning(uint32_t addr);
int	rbl_filter_match(const struct rbl_octet oct[4], uint32_t addr);
int	rbl_filter_exact(const struct rbl_octet oct[4], uint32_t addr);
/*
 * Does the entry match the answer?  Error codes never match unless the
 * filter names that exact address.  Matching addresses are copied to
 * matched[] (may be NULL).  Returns their count.
 */
int	rbl_entry_match(const struct rbl_entry *, const uint32_t *addr, int naddr,
	    uint32_t *matched);

/* One zone's answer as scoring sees it. */
enum rbl_status {
	RBL_NONE = 0,		/* not answered (yet) */
	RBL_LISTED,		/* A records (maybe only error codes) */
	RBL_UNLISTED,		/* NXDOMAIN or no data */
	RBL_FAILED,		/* SERVFAIL, REFUSED, TC, ... */
	RBL_TIMEOUT
};

struct rbl_answer {
	enum rbl_status status;
	int	rcode;
	uint32_t addr[RBL_MAX_ADDRS];
	int	naddr;
	long	ttl;		/* min A TTL, negative TTL from the SOA, or -1 */
	const char *why;	/* RBL_FAILED: short reason */
	char	txt[RBL_TXT_MAX + 1];	/* TXT answers only; last: A answers
					 * are kept without it (RBL_ANSWER_A_SIZE) */
};
#define RBL_ANSWER_A_SIZE	(offsetof(struct rbl_answer, txt) + 1)

struct rbl_score {
	int	total;
	long	pass_ttl, fail_ttl;	/* -1: none */
	int	best;			/* entry index, -1 */
	int	best_weight;
	uint32_t best_addr[RBL_MAX_ADDRS];
	int	best_naddr;
};

void	rbl_score_init(struct rbl_score *);
/* Run one zone's answer through all entries of that zone (postscreen). */
void	rbl_score_add(const struct rbl_sites *, int zone, const struct rbl_answer *,
	    struct rbl_score *);
/* The TTL postscreen would use, clamped. */
long	rbl_score_ttl(const struct rbl_score *, long min_ttl, long max_ttl);

/* ---- dns.c ---- */

/* "2.0.0.127.zen.spamhaus.org" (IPv6: 32 nibbles).  0 or -1. */
int	rbl_query_name(const struct sockaddr *, const char *domain, char *buf, size_t len);
/* Query packet; *wire is malloc'd.  0 or -1. */
int	rbl_dns_build(const char *qname, int qtype, uint16_t id, uint8_t **wire, size_t *len);
/*
 * Check a packet against the question we asked and parse it.  Returns
 * 0 and fills *ans when it is the answer (which may say FAILED), or -1
 * and *why when it must be ignored (wrong ID, question, not a reply,
 * garbage): the transaction keeps waiting.
 */
int	rbl_dns_parse(const uint8_t *pkt, size_t len, uint16_t id, const char *qname,
	    int qtype, struct rbl_answer *ans, const char **why);

struct rbl_resolver;

struct rbl_try {
	int	fd;
	uint16_t id;
	int	server;
	ev_io	io;
	struct rbl_txn *txn;
};

/* One question (A or TXT) for one (client, zone), with its one retry. */
struct rbl_txn {
	struct rbl_resolver *res;
	char	qname[256];
	int	qtype;
	struct rbl_try try[2];
	int	ntries;
	int	queued;
	ev_timer timer;
	void	(*done)(struct rbl_txn *, const struct rbl_answer *);
	void   *ctx;
	unsigned long *ignored;	/* zone counter for stray packets */
	unsigned long *retries;
	double	started;		/* ev_now() at rbl_txn_start */
	TAILQ_ENTRY(rbl_txn) wait;
};

struct rbl_resolver {
	struct ev_loop *loop;
	struct endpoint servers[RBL_MAX_SERVERS];
	int	nservers;
	double	timeout;	/* whole budget; the retry at half */
	int	inflight, max_inflight, nwaiting;
	TAILQ_HEAD(, rbl_txn) waiting;
	unsigned long sent, dropped_socket;
};

int	rbl_resolver_init(struct rbl_resolver *, struct ev_loop *, const char *servers,
	    double timeout, char *why, size_t len);
void	rbl_resolver_fini(struct rbl_resolver *);
/* Start a transaction; done() is called exactly once, never synchronously. */
void	rbl_txn_start(struct rbl_resolver *, struct rbl_txn *, const char *qname, int qtype);
void	rbl_txn_cancel(struct rbl_txn *);

/* ---- replycheck.c ---- */

/* Does a template use $rbl_reason / $rbl_txt? */
int	rbl_template_needs_txt(const char *text);
/*
 * smtpd's checks of an expanded reply, in place: [45]DD + space, enhanced
 * code added or its class forced, cut at 510.  Returns the code or -1.
 */
int	rbl_reply_check(char *reply, size_t len);
/* Characters outside smtpd_expansion_filter become '_'. */
void	rbl_sanitize(char *s);

/* ---- rbl.c / lookup.c / reply.c ---- */

struct rbl_table {
	char   *spec;
	struct table *table;	/* NULL for an empty spec */
	struct rbl_table *next;
};

struct rbl_client;

struct rbl {
	struct ev_loop *loop;
	struct conf *conf;
	char	dnsblog_tag[128];	/* "$syslog_name/dnsblog", as Postfix's listing lines */
	struct rbl_sites sites;
	struct rbl_resolver res;
	struct table *shown_map;
	struct rbl_table *tables;
	int	always_txt;		/* doorman query */
	int	default_needs_txt;	/* a set default_rbl_reply uses $rbl_reason */
	int	threshold, allowlist_threshold;
	long	min_ttl, max_ttl;
	double	timeout;
	struct rbl_client *clients;	/* uthash by address */
	unsigned long nclients;
	unsigned long lookups, joins;
	void	(*observer)(void *, struct rbl_client *, int zone);	/* query.c */
	void   *observer_ctx;
};

/* Find or open the reply table a config selects. NULL table = none. */
struct rbl_table *rbl_table_for(struct rbl *, struct conf *, struct conf_err *);
/* Would any reply for this zone's answer need the TXT record? */
int	rbl_zone_needs_txt(struct rbl *, int zone, const struct rbl_answer *);
/* Which template rbl_reply would use; *source describes it (for query). */
const char *rbl_reply_template(struct rbl *, struct conf *, const struct rbl_verdict *,
	    char *source, size_t srclen, int *table_error);

/* Free every client (rbl_free): handles still held become invalid. */
void	rbl_clients_free(struct rbl *);
/* Per-zone state of a client (query.c reads it). */
const struct rbl_answer *rbl_client_answer(const struct rbl_client *, int zone);
const char *rbl_client_txt(const struct rbl_client *, int zone);
struct rbl_client *rbl_lookup_client(const struct rbl_lookup *);
const char *rbl_client_qname(const struct rbl_client *, int zone, char *buf, size_t len);

/* Parameter access that tolerates names conf does not know (yet). */
const char *rbl_conf_str(struct conf *, const char *name, const char *dflt);
long	rbl_conf_time(struct conf *, const char *name, long dflt);
long	rbl_conf_int(struct conf *, const char *name, long dflt);

/* Log-line rate limiting: 1 if this line may go out. */
int	rbl_throttle_ok(struct rbl_throttle *, double now, double interval, int burst);

#endif
