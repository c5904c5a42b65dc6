/*
 * session - a client's way through the screen: CONNECT, the connection
 * limits, the permanent access list, the pregreet test, the verdict,
 * and then the hand-off to a worker (pool.c) or the dummy engine.
 *
 * The order and the log lines follow postscreen (reference §1.2, §2.6,
 * §3, §4), with DESIGN §5's order of the limits.  The cache is read by
 * the first session of a client only; the others share its expiry times
 * in the client's entry (clients.h).  Until the client speaks, a
 * session has no buffer: early talk is detected with MSG_PEEK, so the
 * bytes stay in the socket for the worker or the engine.
 */
#include <errno.h>
#include <time.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/addr.h"
#include "conf/log.h"
#include "backend/handoff.h"
#include "cache/cache.h"
#include "rbl/rbl.h"
#include "screen/access.h"
#include "screen/clients.h"
#include "screen/engine.h"
#include "screen/pool.h"
#include "screen/screen.h"
#include "screen/session.h"

#define PREGREET_PEEK_MAX	1023	/* as postscreen */
#define PREGREET_LOG_MAX	100

#define REPLY_DENYLIST		"5.3.2 Service currently unavailable"
#define REPLY_PROTOCOL		"5.5.1 Protocol error"

static void session_start_tests(struct session *);

const char *
session_client_str(const struct session *s)
{
	static char buf[ADDR_STRLEN];

	return (addr_bracket_str(&s->client.sa, buf, sizeof(buf)));
}

const char *
session_elapsed_str(const struct session *s)
{
	static char buf[32];

	return (log_time_format(ev_now(screen.loop) - s->start, buf, sizeof(buf)));
}

/* Best effort write of a short reply: a client that will not take a
 * few hundred bytes into an empty socket buffer is not worth waiting for. */
int
session_send(struct session *s, const char *text)
{
	size_t len = strlen(text);

	return (send(s->fd, text, len, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)len ?
	    0 : -1);
}

/* Stop every watcher and lookup of the early phase. */
static void
session_stop_tests(struct session *s)
{
	ev_io_stop(screen.loop, &s->io);
	timerlist_remove(&s->te);
	if (s->rbl != NULL) {
		rbl_lookup_cancel(s->rbl);
		s->rbl = NULL;
	}
	if (s->cache_req != NULL) {
		cache_cancel(s->cache_req);
		s->cache_req = NULL;
	}
}

/*
 * The screen's own STRESS (postscreen's): on at 90 % of the pre-queue
 * limit, off at 70 %, so that the stress values of screen_greet_wait
 * and screen_command_time_limit apply while the screen fills up.
 */
static void
session_update_stress(void)
{
	long limit = screen.p.pre_queue_limit;

	if (!screen.stress && (long)screen.held >= limit * 9 / 10) {
		screen.stress = 1;
		msg_info("entering STRESS mode with %zu connections", screen.held);
	} else if (screen.stress && (long)screen.held <= limit * 7 / 10) {
		screen.stress = 0;
		msg_info("leaving STRESS mode with %zu connections", screen.held);
	}
}

void
session_close(struct session *s, int log_disconnect)
{
	if (log_disconnect)
		msg_info("DISCONNECT %s", session_client_str(s));
	session_stop_tests(s);
	if (s->engine != NULL)
		engine_free(s->engine);
	if (s->fd >= 0) {
		/* Our last reply must not die in a reset (handoff.h). */
		if (!(s->flags & SESSION_F_EOF))
			handoff_drain_client(s->fd);
		close(s->fd);
	}
	clients_release_screen(s->cip);
	screen.held--;
	if (screen.stress)
		session_update_stress();
	free(s->dnsbl_reply);
	free(s);
}

void
session_handed_off(struct session *s)
{
	screen.n.handed_off++;
	/* The worker reads the client now: our copy just goes. */
	close(s->fd);
	s->fd = -1;
	session_close(s, 0);
}

void
session_refuse(struct session *s, const char *reply)
{
	char	buf[600];

	session_stop_tests(s);
	if (s->flags & (SESSION_F_TEASER | SESSION_F_GREETED)) {
		engine_start(s, ENGINE_X21, reply);
		return;
	}
	snprintf(buf, sizeof(buf), "%s\r\n", reply);
	(void)session_send(s, buf);	/* one segment (TCP_NODELAY) */
	session_close(s, 0);
}

/*
 * A test failed: apply its action.  enforce_reply is what RCPT will get
 * under enforce, drop_reply what drop sends before it hangs up.
 * Returns 1 if the session is gone.
 */
static int
session_fail(struct session *s, enum screen_action action,
    const char *enforce_reply, const char *drop_reply)
{
	char buf[600];

	s->fail_reply = enforce_reply;
	switch (action) {
	case ACTION_DROP:
		snprintf(buf, sizeof(buf), "%s\r\n", drop_reply);
		(void)session_send(s, buf);
		session_close(s, 1);
		return (1);
	case ACTION_ENFORCE:
		s->flags |= SESSION_F_ENFORCE;
		return (0);
	case ACTION_IGNORE:
		return (0);
	}
	return (0);
}

/* The DNSBL verdict; returns 1 if the session is gone. */
static int
session_dnsbl_verdict(struct session *s, time_t now)
{
	const struct rbl_verdict *v = rbl_lookup_verdict(s->rbl);
	char reply[600];
	int hangup;

	if (!rbl_verdict_listed(screen.rbl, v)) {
		s->cip->rec.expiry[CACHE_DNSBL] = now + v->ttl;
		return (0);
	}
	msg_info("DNSBL rank %d for %s", v->score, session_client_str(s));
	screen.n.dnsbl_listed++;
	s->flags |= SESSION_F_DNSBL_FAIL;
	/* The map in force now decides: ${stress?...} picks it at verdict time. */
	(void)rbl_reply(screen.rbl, screen_conf_in_force(), v, &s->client.sa,
	    screen.p.dnsbl_action == ACTION_DROP, reply, sizeof(reply), &hangup);
	free(s->dnsbl_reply);
	if ((s->dnsbl_reply = strdup(reply)) == NULL)
		msg_fatal("out of memory");
	/*
	 * Only a 521 may follow the teaser directly (DESIGN §10); another
	 * code chosen by the reply map completes the greeting first and
	 * answers the next command.
	 */
	if (screen.p.dnsbl_action == ACTION_DROP && (s->flags & SESSION_F_TEASER) &&
	    strncmp(reply, "521", 3) != 0) {
		s->fail_reply = s->dnsbl_reply;
		session_refuse(s, s->dnsbl_reply);
		return (1);
	}
	return (session_fail(s, screen.p.dnsbl_action, s->dnsbl_reply, s->dnsbl_reply));
}

/*
 * Every pass is logged, as postscreen does: NEW for the first session
 * of a client that never passed, OLD for the others (a cached pass, a
 * concurrent second session, a re-test of an expired test).
 */
static void
session_pass(struct session *s)
{
	if (s->flags & SESSION_F_NEW) {
		msg_info("PASS NEW %s", session_client_str(s));
		s->flags |= SESSION_F_PASS_NEW;
		screen.n.pass_new++;
	} else {
		msg_info("PASS OLD %s", session_client_str(s));
		s->flags |= SESSION_F_PASS_OLD;
		screen.n.pass_old++;
	}
}

/* After the early tests: record what passed, then hand off or talk. */
static void
session_verdict(struct session *s)
{
	struct client_ip *ci = s->cip;
	time_t now = time(NULL);
	char ip[ADDR_STRLEN];
	long ttl;

	ev_io_stop(screen.loop, &s->io);
	timerlist_remove(&s->te);
	if ((s->due & CACHE_BIT(CACHE_DNSBL)) && s->rbl != NULL &&
	    session_dnsbl_verdict(s, now))
		return;
	if (s->rbl != NULL) {
		rbl_lookup_cancel(s->rbl);
		s->rbl = NULL;
	}
	if ((s->due & CACHE_BIT(CACHE_PREGREET)) && !(s->flags & SESSION_F_PREGREET_FAIL)) {
		ttl = screen.p.greet_ttl;
		ci->rec.expiry[CACHE_PREGREET] = now + ttl;
	}
	if (s->flags & SESSION_F_ENFORCE) {
		engine_start(s, ENGINE_ENFORCE, NULL);
		return;
	}
	if ((s->flags & (SESSION_F_PREGREET_FAIL | SESSION_F_DENY_FAIL |
	    SESSION_F_DNSBL_FAIL)) == 0) {
		/* Failures are never cached; passes are, even partial ones. */
		cache_update(screen.cache, addr_ip_str(&s->client.sa, ip, sizeof(ip)),
		    &ci->rec);
		session_pass(s);
	}
	pool_submit(s);
}

static void
session_greet_expired(struct timer_entry *te)
{
	session_verdict(session_of_timer(te));
}

/*
 * News from the DNS: the allowlist threshold ends the wait at once
 * (every pending test counts as passed); with no pregreet test, the
 * last answer ends it.
 */
static void
session_rbl_update(void *arg, const struct rbl_verdict *v)
{
	struct session *s = arg;
	struct client_ip *ci = s->cip;
	time_t now = time(NULL);
	int t;

	if (rbl_verdict_allowlisted(screen.rbl, v) &&
	    (s->flags & (SESSION_F_PREGREET_FAIL | SESSION_F_DENY_FAIL)) == 0) {
		screen.n.dnsbl_allowlisted++;
		s->flags |= SESSION_F_DNSWL;
		for (t = 0; t < CACHE_NTESTS; t++)
			if (t != CACHE_DNSBL && ci->rec.expiry[t] < now + v->ttl)
				ci->rec.expiry[t] = now + v->ttl;
		s->due &= ~CACHE_BIT(CACHE_PREGREET);
		session_verdict(s);
		return;
	}
	if (v->complete && !(s->due & CACHE_BIT(CACHE_PREGREET)))
		session_verdict(s);
}

/* Input during the greet wait: early talk or a hang-up. */
static void
session_pregreet_event(struct ev_loop *loop, ev_io *w, int revents)
{
	struct session *s = w->data;
	char peek[PREGREET_PEEK_MAX];
	char esc[4 * PREGREET_LOG_MAX + 1];
	ssize_t n;

	(void)loop;
	(void)revents;
	n = recv(s->fd, peek, sizeof(peek), MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		msg_info("HANGUP after %s from %s in tests before SMTP handshake",
		    session_elapsed_str(s), session_client_str(s));
		screen.n.hangup++;
		s->flags |= SESSION_F_EOF;
		session_close(s, 1);
		return;
	}
	msg_info("PREGREET %zd after %s from %s: %s", n, session_elapsed_str(s),
	    session_client_str(s),
	    log_escape(peek, (size_t)n, PREGREET_LOG_MAX, esc, sizeof(esc)));
	screen.n.pregreet++;
	s->flags |= SESSION_F_PREGREET_FAIL;
	/* The bytes stay in the socket; stop looking at them. */
	ev_io_stop(screen.loop, &s->io);
	(void)session_fail(s, screen.p.greet_action, "550 " REPLY_PROTOCOL,
	    "521 " REPLY_PROTOCOL);
}

/* Send the teaser and watch for early talk; 0, or -1 if the session is gone. */
static int
session_start_greet(struct session *s)
{
	char teaser[600];

	snprintf(teaser, sizeof(teaser), "220-%s\r\n", screen.p.greet_banner);
	if (session_send(s, teaser) != 0) {
		msg_info("HANGUP after %s from %s in tests before SMTP handshake",
		    session_elapsed_str(s), session_client_str(s));
		session_close(s, 1);
		return (-1);
	}
	s->flags |= SESSION_F_TEASER;
	ev_io_init(&s->io, session_pregreet_event, s->fd, EV_READ);
	s->io.data = s;
	ev_io_start(screen.loop, &s->io);
	return (0);
}

/*
 * backend_upstream_greeting = local: after the screen's 220 the client
 * stays here until it sends something (or hangs up), and only then
 * waits for a worker.  A client that takes its time costs the screen a
 * few hundred bytes instead of a worker process, and the worker it gets
 * has work at once.  Silent for smtpd_timeout: smtpd's 421, as the
 * worker would have said.
 */
static void
session_first_command_event(struct ev_loop *loop, ev_io *w, int revents)
{
	struct session *s = w->data;

	(void)revents;
	ev_io_stop(loop, w);
	timerlist_remove(&s->te);
	pool_submit(s);
}

static void
session_first_command_expired(struct timer_entry *te)
{
	struct session *s = session_of_timer(te);
	char reply[600];

	msg_info("COMMAND TIME LIMIT from %s after CONNECT", session_client_str(s));
	snprintf(reply, sizeof(reply), "421 4.4.2 %s Error: timeout exceeded\r\n",
	    screen.p.myhostname);
	(void)session_send(s, reply);
	session_close(s, 1);
}

void
session_greet_and_wait(struct session *s)
{
	char greeting[600];

	snprintf(greeting, sizeof(greeting), "220 %s\r\n", screen.p.smtpd_banner);
	if (session_send(s, greeting) != 0) {
		session_close(s, 0);
		return;
	}
	s->flags |= SESSION_F_GREETED;
	s->state = SESSION_SPEAK;
	ev_io_init(&s->io, session_first_command_event, s->fd, EV_READ);
	s->io.data = s;
	ev_io_start(screen.loop, &s->io);
	timerlist_add(&screen.first_command[screen_in_stress()], &s->te,
	    session_first_command_expired);
}

/* The early phase: whatever tests the record says are due. */
static void
session_start_tests(struct session *s)
{
	struct client_ip *ci = s->cip;
	unsigned enabled = screen.p.enabled_tests;
	time_t now = time(NULL);

	if (!ci->has_record) {
		cache_record_init(&ci->rec, enabled);
		ci->has_record = 1;
	}
	s->due = (uint8_t)cache_due_mask(&ci->rec, enabled, now);
	/* A client that failed already (denylisted) runs every test anew. */
	if (s->flags & SESSION_F_DENY_FAIL)
		s->due = (uint8_t)enabled;
	/* Only what the early phase runs can be due here. */
	s->due &= CACHE_BIT(CACHE_PREGREET) | CACHE_BIT(CACHE_DNSBL);
	if (s->due == 0 && (s->flags & SESSION_F_ENFORCE)) {
		/* Nothing to test, but it must never reach a worker. */
		session_verdict(s);
		return;
	}
	if (s->due == 0) {
		/* A failure (denylisted under ignore) is never a PASS. */
		if (!(s->flags & SESSION_F_DENY_FAIL))
			session_pass(s);
		pool_submit(s);
		return;
	}
	if (cache_record_is_new(&ci->rec, enabled) && !ci->new_claimed) {
		ci->new_claimed = 1;
		s->flags |= SESSION_F_NEW;
	}
	s->state = SESSION_GREET;
	if ((s->due & CACHE_BIT(CACHE_PREGREET)) && session_start_greet(s) != 0)
		return;
	/* One timer bounds the phase, with or without the pregreet test. */
	timerlist_add(&screen.greet_wait[screen_in_stress()], &s->te, session_greet_expired);
	if (s->due & CACHE_BIT(CACHE_DNSBL))
		s->rbl = rbl_lookup_start(screen.rbl, &s->client.sa, session_rbl_update, s);
}

static void
session_cache_answer(void *arg, int found, const struct cache_record *rec)
{
	struct session *s = arg;

	s->cache_req = NULL;
	/* A concurrent session may have started (and passed) meanwhile. */
	if (found && !s->cip->has_record) {
		s->cip->rec = *rec;
		s->cip->has_record = 1;
	}
	session_start_tests(s);
}

void
session_accept(struct listener *l, int fd, const struct sockaddr *client,
    const struct sockaddr *server)
{
	struct session *s;
	char sbuf[ADDR_STRLEN], ip[ADDR_STRLEN];
	const struct client_ip *ci;
	struct cache_req *req;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		msg_warn("out of memory: dropping a new connection");
		close(fd);
		return;
	}
	s->fd = fd;
	s->listener = l;
	s->start = ev_now(screen.loop);
	memcpy(&s->client, client, client->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	memcpy(&s->server, server, server->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	ev_init(&s->io, session_pregreet_event);
	screen.held++;
	screen.n.connections++;
	session_update_stress();
	s->cip = clients_get(&s->client.sa);
	s->cip->in_screen++;
	ci = s->cip;

	msg_info("CONNECT from %s to %s", session_client_str(s),
	    addr_bracket_str(&s->server.sa, sbuf, sizeof(sbuf)));

	if (screen.p.client_connection_count_limit > 0 &&
	    ci->in_screen + ci->in_workers > screen.p.client_connection_count_limit) {
		msg_info("NOQUEUE: reject: CONNECT from %s: too many connections",
		    session_client_str(s));
		screen.n.rejected_conn_limit++;
		(void)session_send(s, "421 4.7.0 Error: too many connections\r\n");
		session_close(s, 0);
		return;
	}
	/* postscreen's rule: clients waiting for a worker do not count. */
	if ((long)(screen.held - pool_post_queue()) >= screen.p.pre_queue_limit) {
		msg_info("reject: connect from %s: all screening ports busy",
		    session_client_str(s));
		screen.n.rejected_pre_queue++;
		(void)session_send(s, "421 4.3.2 All screening ports are busy\r\n");
		session_close(s, 0);
		return;
	}

	switch (access_list_check(screen.access, &s->client.sa)) {
	case ACCESS_PERMIT:
		msg_info("%s %s", screen.p.respectful_logging ? "ALLOWLISTED" :
		    "WHITELISTED", session_client_str(s));
		screen.n.allowlisted++;
		s->flags |= SESSION_F_ALLOWLISTED;
		pool_submit(s);
		return;
	case ACCESS_REJECT:
		msg_info("%s %s", screen.p.respectful_logging ? "DENYLISTED" :
		    "BLACKLISTED", session_client_str(s));
		screen.n.denylisted++;
		s->flags |= SESSION_F_DENY_FAIL;
		if (session_fail(s, screen.p.denylist_action, "550 " REPLY_DENYLIST,
		    "521 " REPLY_DENYLIST))
			return;
		break;
	case ACCESS_DUNNO:
		break;
	}

	/*
	 * The cache speaks for a client with no other session in the screen,
	 * and only while nothing has failed (postscreen's rule).
	 */
	if (screen.cache != NULL && ci->in_screen == 1 && !ci->has_record &&
	    !(s->flags & SESSION_F_DENY_FAIL)) {
		s->state = SESSION_CACHE;
		req = cache_lookup(screen.cache, addr_ip_str(&s->client.sa, ip, sizeof(ip)),
		    session_cache_answer, s);
		/* NULL: the answer came already, and s may be gone. */
		if (req != NULL)
			s->cache_req = req;
		return;
	}
	session_start_tests(s);
}
