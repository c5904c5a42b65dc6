/*
 * rbl - DNSBL/DNSWL screening for the screen: site syntax, an async
 * resolver on the libev loop (ldns packets over our own UDP sockets),
 * one query per (client, domain) shared by every session of that client,
 * postscreen's scoring and TTL rules, and smtpd's rbl_reply_maps.
 *
 * Life of a client (all on the loop, no threads):
 *
 *	l = rbl_lookup_start(rbl, client, cb, arg);	at CONNECT
 *	cb(arg, v) ...					after each answer that
 *							changes the score, and
 *							once with v->complete
 *	v = rbl_lookup_verdict(l);			when the greet wait ends
 *	if (rbl_verdict_listed(rbl, v))
 *		code = rbl_reply(rbl, conf_now, v, client, drop, buf, ...);
 *	rbl_lookup_cancel(l);				when the session is done
 *
 * Parameters read (postscreen_* aliases accepted by conf): 
 * screen_dnsbl_sites, screen_dnsbl_threshold,
 * screen_dnsbl_allowlist_threshold, screen_dnsbl_timeout (the whole
 * budget of one lookup; the one retry goes out at half of it),
 * screen_dnsbl_min_ttl, screen_dnsbl_max_ttl, screen_dnsbl_reply_map,
 * dns_servers (default: the nameservers of /etc/resolv.conf),
 * rbl_reply_maps, default_rbl_reply, maps_rbl_reject_code.
 */
#ifndef DOORMAN_RBL_H
#define DOORMAN_RBL_H

#include <stdio.h>
#include <stddef.h>
#include <sys/socket.h>

struct ev_loop;
struct conf;
struct conf_err;

/* Parsed sites, resolver sockets, reply maps: one per screen. */
struct rbl;
/* One session's interest in one client's lookups. */
struct rbl_lookup;

/*
 * The state of one client's DNSBL lookups.  Pointers stay valid until
 * the rbl_lookup the verdict came from is cancelled.
 */
struct rbl_verdict {
	int	score;		/* sum of the weights of matching entries */
	int	complete;	/* every query answered, failed or timed out */
	int	pending;	/* queries (A, and TXT when needed) in flight */
	int	errors;		/* lookups that failed (timeout, SERVFAIL, ...) */
	long	ttl;		/* seconds: fail_ttl if score > 0, else pass_ttl,
				 * clamped to [min_ttl, max_ttl] as postscreen */
	/* The matching entry with the largest positive weight (NULL if none). */
	const char *site;	/* as written, without "*weight" */
	const char *domain;	/* its zone, as written */
	const char *shown;	/* the zone after screen_dnsbl_reply_map */
	int	weight;
	int	has_filter;	/* site has "=filter" (so site is a map key) */
	const char *addrs;	/* answer addresses that matched it, space separated */
	const char *txt;	/* TXT records joined by " / ", or NULL */
};

typedef void rbl_update_fn(void *arg, const struct rbl_verdict *);

/*
 * Parse the configuration and open sockets' prerequisites (servers,
 * tables).  NULL and *err (file:line: reason) on a bad configuration.
 * With screen_dnsbl_sites empty the result is valid but disabled.
 */
struct rbl *rbl_create(struct ev_loop *, struct conf *, struct conf_err *);
void	rbl_free(struct rbl *);
int	rbl_enabled(const struct rbl *);
/* No client lookups in flight: safe to rbl_free() (after a reload). */
int	rbl_idle(const struct rbl *);

/*
 * Open the rbl_reply_maps table that another config (the stress one)
 * selects, so that table errors show at start-up and no file is read
 * when a verdict is made.  0, or -1 and *err.  Optional: rbl_reply()
 * opens a table it has not seen on first use.
 */
int	rbl_prepare_conf(struct rbl *, struct conf *, struct conf_err *);

/*
 * Start, or join, the lookups for this client.  cb is called after every
 * answer that changes the score and once with complete set; never from
 * within rbl_lookup_start() itself.  A joiner of a finished client gets
 * one call with the final verdict.  Returns NULL when the rbl is
 * disabled or the client address is not IPv4/IPv6.
 */
struct rbl_lookup *rbl_lookup_start(struct rbl *, const struct sockaddr *client,
	    rbl_update_fn *cb, void *arg);
/* The current verdict (possibly partial). */
const struct rbl_verdict *rbl_lookup_verdict(const struct rbl_lookup *);
/* The caller's interest ends; no more callbacks; late answers are dropped. */
void	rbl_lookup_cancel(struct rbl_lookup *);

/* score >= screen_dnsbl_threshold */
int	rbl_verdict_listed(const struct rbl *, const struct rbl_verdict *);
/* screen_dnsbl_allowlist_threshold < 0 and score <= it (and < threshold) */
int	rbl_verdict_allowlisted(const struct rbl *, const struct rbl_verdict *);

/*
 * The reply line (no CRLF) for a listed client, from conf_in_force's
 * rbl_reply_maps (keys: site with its filter, domain=ADDR per matched
 * address, bare domain), else default_rbl_reply if set, else
 * postscreen's "550 5.7.1 Service unavailable; client [IP] blocked
 * using DOMAIN" (521 when action_drop).  Checked as smtpd does: [45]DD,
 * class digit forced, cut at 510 bytes; malformed gives a warning and
 * "450 4.7.1 Service unavailable".  Returns the code; *hangup is set
 * for 421 and 521.
 */
int	rbl_reply(struct rbl *, struct conf *conf_in_force,
	    const struct rbl_verdict *, const struct sockaddr *client,
	    int action_drop, char *buf, size_t len, int *hangup);

/*
 * `doorman query IP`: every site's query name and answer (addresses,
 * TTL, TXT), which entries matched with their weights, the total score,
 * the verdict and the exact reply.  Runs its own loop against the
 * configured DNS servers.  Returns an exit code (0, 1 config, 2 usage).
 */
int	rbl_query_command(struct conf *, const char *ip, FILE *out);

/*
 * `doorman check`: warn (lines "warning: ..." on out) about lists that
 * another configured list contains (zen.spamhaus.org holds sbl, xbl,
 * pbl and css: they would count twice) and, with probe set, about zones
 * that do not list the RFC 5782 test point 127.0.0.2 through
 * dns_servers (wrong name, refused resolver, no answer).  Returns the
 * number of warnings; config errors are left to rbl_create().
 */
int	rbl_check_sites(struct conf *, int probe, FILE *out);

/* Counters per zone for `doorman status` and metrics. */
void	rbl_stats_print(const struct rbl *, FILE *out);
/* The same counters in Prometheus text format (doorman_dnsbl_*). */
void	rbl_metrics_print(const struct rbl *, FILE *out);

#endif
