/*
 * worker - wait for hand-offs from the screen and run their sessions
 * (see worker.h).
 *
 * Status protocol as this worker speaks it:
 *   READY  at start, and after each DONE when it will take another client;
 *   BUSY   as soon as a record and its fd arrived (the screen may close
 *          its copy of the fd now);
 *   DONE   when the session is over.
 * DONE and the READY that follows go as one message.  A worker that is
 * going to exit (max_use reached, EOF from the screen) sends DONE and no
 * READY.  A bad record gets READY again: the fd was not taken, the
 * screen still holds its copy and may hand it elsewhere.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "conf/log.h"
#include "backend/handoff.h"
#include "backend/netio.h"
#include "backend/worker.h"

/* Send statuses, waiting a little if the socket is full. */
static int
status(int sock, const char *st)
{
	struct pollfd pfd;
	int	tries;

	/* Our lines about a client come before the screen hears of it. */
	log_flush();
	for (tries = 0; tries < 50; tries++) {
		if (handoff_send_status(sock, st) == 0)
			return (0);
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return (-1);
		pfd.fd = sock;
		pfd.events = POLLOUT;
		(void)poll(&pfd, 1, 100);
	}
	return (-1);
}

int
worker_run(int sock, const struct smtpd_params *p, const struct worker_limits *lim)
{
	static struct handoff h;	/* 2.5 KB: keep it off the stack */
	struct pollfd pfd;
	int64_t	idle_since;
	long	uses = 0;
	const char *why;
	int	fd, r;

	if (status(sock, HANDOFF_ST_READY) < 0) {
		/* Retired before it started: the screen is done with us. */
		if (errno == EPIPE || errno == ECONNRESET)
			return (0);
		msg_warn("cannot talk to the screen: %s", strerror(errno));
		return (1);
	}
	idle_since = netio_now();
	for (;;) {
		int64_t	left = idle_since + lim->max_idle * 1000 - netio_now();

		if (left <= 0)
			return (0);	/* max_idle: the screen spawns anew when needed */
		pfd.fd = sock;
		pfd.events = POLLIN;
		pfd.revents = 0;
		r = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (r < 0 && errno != EINTR) {
			msg_warn("poll: %s", strerror(errno));
			return (1);
		}
		if (r <= 0)
			continue;
		why = NULL;
		r = handoff_recv(sock, &h, &fd, &why);
		/*
		 * The screen closed our socket.  With our last statuses still
		 * unread on its side, the close arrives as ECONNRESET.
		 */
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			return (0);
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			if (errno == EBADMSG) {
				msg_warn("bad hand-off record from the screen: %s", why);
				if (status(sock, HANDOFF_ST_READY) < 0)
					return (1);
				continue;
			}
			msg_warn("receive hand-off: %s", strerror(errno));
			return (1);
		}
		/*
		 * Without our BUSY the screen still owns the client and may
		 * give it to another worker: never serve it then.
		 */
		if (status(sock, HANDOFF_ST_BUSY) < 0) {
			msg_warn("cannot tell the screen we are busy: %s", strerror(errno));
			close(fd);
			return (1);
		}
		uses++;
		session_run(p, &h, fd);
		if (uses >= lim->max_use) {
			(void)status(sock, HANDOFF_ST_DONE);
			return (0);
		}
		/* A screen that closed our channel meanwhile: EPIPE, we leave. */
		if (status(sock, HANDOFF_ST_DONE_READY) < 0)
			return (0);
		idle_since = netio_now();
	}
}
