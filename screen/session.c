/*
 * session - a client's way through the screen: CONNECT, the connection
 * limits, the permanent access list, the pregreet test, the verdict,
 * and then the hand-off to a worker (pool.c) or the dummy engine.
 *
 * The order and the log lines follow postscreen (reference §1.2, §4),
 * with DESIGN §5's order of the limits.  Until the client speaks, a
 * session has no buffer: early talk is detected with MSG_PEEK, so the
 * bytes stay in the socket for the worker or the engine.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/addr.h"
#include "conf/log.h"
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
static int
session_send(struct session *s, const char *text)
{
	size_t len = strlen(text);

	return (send(s->fd, text, len, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)len ?
	    0 : -1);
}

void
session_close(struct session *s, int log_disconnect)
{
	if (log_disconnect)
		msg_info("DISCONNECT %s", session_client_str(s));
	ev_io_stop(screen.loop, &s->io);
	timerlist_remove(&s->te);
	if (s->engine != NULL)
		engine_free(s->engine);
	if (s->fd >= 0)
		close(s->fd);
	clients_release_screen(s->cip);
	screen.held--;
	free(s);
}

void
session_handed_off(struct session *s)
{
	screen.n.handed_off++;
	session_close(s, 0);
}

void
session_refuse(struct session *s, const char *reply)
{
	ev_io_stop(screen.loop, &s->io);
	timerlist_remove(&s->te);
	if (s->flags & SESSION_F_TEASER) {
		engine_start(s, ENGINE_X21, reply);
		return;
	}
	(void)session_send(s, reply);
	(void)session_send(s, "\r\n");
	session_close(s, 0);
}

/* After the tests: hand off, or talk to the client ourselves. */
static void
session_verdict(struct session *s)
{
	ev_io_stop(screen.loop, &s->io);
	timerlist_remove(&s->te);
	if (s->flags & SESSION_F_ENFORCE) {
		engine_start(s, ENGINE_ENFORCE, NULL);
		return;
	}
	if ((s->flags & (SESSION_F_PREGREET_FAIL | SESSION_F_DENY_FAIL)) == 0) {
		msg_info("PASS NEW %s", session_client_str(s));
		s->flags |= SESSION_F_PASS_NEW;
		screen.n.pass_new++;
	}
	pool_submit(s);
}

static void
session_greet_expired(struct timer_entry *te)
{
	struct session *s = (struct session *)((char *)te -
	    offsetof(struct session, te));

	session_verdict(s);
}

/* A test failed: apply its action.  Returns 1 if the session is gone. */
static int
session_fail(struct session *s, enum screen_action action, const char *reply)
{
	char buf[128];

	s->fail_reply = reply;
	switch (action) {
	case ACTION_DROP:
		snprintf(buf, sizeof(buf), "521 %s\r\n", reply);
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
	(void)session_fail(s, screen.p.greet_action, REPLY_PROTOCOL);
}

static void
session_start_greet(struct session *s)
{
	char teaser[600];
	int stressed = screen.stress != 0;

	snprintf(teaser, sizeof(teaser), "220-%s\r\n", screen.p.greet_banner);
	if (session_send(s, teaser) != 0) {
		msg_info("HANGUP after %s from %s in tests before SMTP handshake",
		    session_elapsed_str(s), session_client_str(s));
		session_close(s, 1);
		return;
	}
	s->flags |= SESSION_F_TEASER;
	if (stressed)
		s->flags |= SESSION_F_STRESS;
	s->state = SESSION_GREET;
	ev_io_init(&s->io, session_pregreet_event, s->fd, EV_READ);
	s->io.data = s;
	ev_io_start(screen.loop, &s->io);
	timerlist_add(&screen.greet_wait[stressed], &s->te, session_greet_expired);
}

void
session_accept(struct listener *l, int fd, const struct sockaddr *client,
    const struct sockaddr *server)
{
	struct session *s;
	char sbuf[ADDR_STRLEN];
	const struct client_ip *ci;

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
	if ((long)screen.held > screen.p.pre_queue_limit) {
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
		if (session_fail(s, screen.p.denylist_action, REPLY_DENYLIST))
			return;
		break;
	case ACCESS_DUNNO:
		break;
	}

	if (screen.p.greet_banner[0] != '\0')
		session_start_greet(s);
	else
		session_verdict(s);
}

