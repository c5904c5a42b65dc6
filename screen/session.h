/*
 * session - one client connection in the screen, from accept to
 * hand-off or close.  Held zombies are what doorman has most of, so the
 * struct is small: no buffers until the dummy engine runs, and its
 * timeout is an entry on a shared timer list.
 */
#ifndef DOORMAN_SESSION_H
#define DOORMAN_SESSION_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <ev.h>

#include "screen/timerlist.h"

union session_addr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

enum session_state {
	SESSION_CACHE,		/* waiting for the cache's answer */
	SESSION_GREET,		/* early tests: greet wait and/or DNSBL */
	SESSION_SPEAK,		/* greeted by the screen, waiting for a first command */
	SESSION_QUEUED,		/* waiting for an idle worker (post-queue) */
	SESSION_SENT,		/* sent to a worker, waiting for its BUSY */
	SESSION_ENGINE		/* the dummy SMTP engine talks to it */
};

/* Session flags. */
#define SESSION_F_TEASER	0x0001	/* "220-" went out */
#define SESSION_F_ALLOWLISTED	0x0002
#define SESSION_F_PREGREET_FAIL	0x0004
#define SESSION_F_DENY_FAIL	0x0008
#define SESSION_F_ENFORCE	0x0010	/* never hand off: a test failed under enforce */
#define SESSION_F_PASS_NEW	0x0020
#define SESSION_F_PASS_OLD	0x0040
#define SESSION_F_DNSBL_FAIL	0x0080
#define SESSION_F_NEW		0x0100	/* this session logs PASS NEW */
#define SESSION_F_DNSWL		0x0200	/* the allowlist threshold ended the tests */
#define SESSION_F_GREETED	0x0400	/* the final "220 " went out from the screen */
#define SESSION_F_EOF		0x0800	/* the client hung up: nothing to drain */

struct listener;
struct client_ip;
struct engine;
struct rbl_lookup;
struct cache_req;

struct session {
	int	fd;
	uint16_t state;
	uint16_t flags;
	ev_io	io;
	struct timer_entry te;		/* greet wait, command wait, post-queue wait, engine limit */
	ev_tstamp start;
	union session_addr client;
	union session_addr server;
	struct listener *listener;
	struct client_ip *cip;
	uint8_t	due;			/* CACHE_BIT() of the tests run in this session */
	uint8_t	handoff_tries;		/* workers that died before taking it */
	const char *fail_reply;		/* RCPT reply of the last failed test */
	char   *dnsbl_reply;		/* owned; fail_reply may point to it */
	struct rbl_lookup *rbl;		/* DNSBL lookups in flight */
	struct cache_req *cache_req;	/* cache lookup in flight */
	struct engine *engine;		/* NULL until the engine runs */
};

/* The session whose timer entry this is (every timer list holds sessions). */
static inline struct session *
session_of_timer(struct timer_entry *te)
{
	return ((struct session *)((char *)te - offsetof(struct session, te)));
}

/* A new connection from the listener. */
void	session_accept(struct listener *, int fd, const struct sockaddr *client,
	    const struct sockaddr *server);

/*
 * Send the final "220 $smtpd_banner" (backend_upstream_greeting = local)
 * and hand the session to the pool when the client speaks.
 */
void	session_greet_and_wait(struct session *);

/* The worker has the fd: close the screen's copy and forget the session. */
void	session_handed_off(struct session *);

/*
 * Refuse with a 421 reply: directly if no teaser went out, else by
 * completing the greeting with "220 " first and answering the next
 * command with it (postscreen's X21 mode).
 */
void	session_refuse(struct session *, const char *reply);

/* Write a short reply without blocking; -1 if it did not all go out. */
int	session_send(struct session *, const char *text);

/* Close and free; with log_disconnect, log "DISCONNECT [c]:p". */
void	session_close(struct session *, int log_disconnect);

/* "[c]:p" of the client, in a static buffer (log lines). */
const char *session_client_str(const struct session *);
/* Elapsed time since accept, formatted for a log line. */
const char *session_elapsed_str(const struct session *);

#endif
