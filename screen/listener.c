/*
 * listener - bind, listen and accept for the screen.
 *
 * Accepted sockets are non-blocking and close-on-exec (they travel to
 * workers by SCM_RIGHTS, never by inheritance).  EMFILE/ENFILE would
 * make a level-triggered accept watcher spin, so the watcher is stopped
 * for a second instead, with one warning per episode.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>

#include "conf/addr.h"
#include "conf/log.h"
#include "screen/listener.h"
#include "screen/screen.h"
#include "screen/session.h"

#define LISTEN_BACKLOG		4096
#define ACCEPT_BURST		64	/* accepts per event, so one port cannot starve the loop */
#define ACCEPT_PAUSE		1.0

struct listener {
	struct listener *next;
	int	fd;
	ev_io	io;
	ev_timer pause;
	int	paused;
	int	wildcard;		/* 0.0.0.0 or [::]: ask each socket its address */
	struct sockaddr_storage bound;	/* otherwise every socket has this one */
	socklen_t boundlen;
	char	name[ADDR_STRLEN];
};

static struct listener *listeners;

const char *
listener_name(const struct listener *l)
{
	return (l->name);
}

static int
listener_is_wildcard(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (((const struct sockaddr_in *)sa)->sin_addr.s_addr == htonl(INADDR_ANY));
	if (sa->sa_family == AF_INET6)
		return (IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)sa)->sin6_addr));
	return (1);
}

static void
listener_resume(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct listener *l = t->data;

	(void)revents;
	l->paused = 0;
	ev_io_start(loop, &l->io);
}

static void
listener_accept(struct ev_loop *loop, ev_io *io, int revents)
{
	struct listener *l = io->data;
	struct sockaddr_storage client, server;
	socklen_t clen, slen;
	int fd, i;

	(void)revents;
	for (i = 0; i < ACCEPT_BURST; i++) {
		clen = sizeof(client);
		fd = accept4(l->fd, (struct sockaddr *)&client, &clen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				if (!l->paused)
					msg_warn("accept on %s: %m: pausing new connections for %.0fs "
					    "(%zu held)", l->name, ACCEPT_PAUSE, screen.held);
				l->paused = 1;
				ev_io_stop(loop, io);
				ev_timer_set(&l->pause, ACCEPT_PAUSE, 0);
				ev_timer_start(loop, &l->pause);
			} else if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED) {
				msg_warn("accept on %s: %m", l->name);
			}
			return;
		}
		/* A specific address: no system call to learn it again. */
		slen = sizeof(server);
		if (!l->wildcard) {
			memcpy(&server, &l->bound, l->boundlen);
			slen = l->boundlen;
		} else if (getsockname(fd, (struct sockaddr *)&server, &slen) < 0) {
			msg_warn("getsockname: %m");
			close(fd);
			continue;
		}
		addr_unmap(&client, &clen);
		addr_unmap(&server, &slen);
		session_accept(l, fd, (struct sockaddr *)&client,
		    (struct sockaddr *)&server);
	}
}

int
listeners_open(struct conf *c, struct conf_err *err)
{
	char **v = conf_list(c, "listen");
	const char *why, *file;
	struct endpoint ep;
	struct listener *l;
	int fd, on = 1, line;
	size_t i;

	conf_origin(c, "listen", &file, &line);
	for (i = 0; v[i] != NULL; i++) {
		if (addr_parse_endpoint(v[i], &ep, &why) != 0 ||
		    ep.sa.ss_family == AF_UNIX) {
			snprintf(err->file, sizeof(err->file), "%s", file);
			err->line = line;
			snprintf(err->reason, sizeof(err->reason),
			    "bad listen address \"%.200s\": %s", v[i],
			    ep.sa.ss_family == AF_UNIX ? "not an inet address" : why);
			return (-1);
		}
		fd = socket(ep.sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			goto syserr;
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (ep.sa.ss_family == AF_INET6)
			(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
		/*
		 * Accepted sockets inherit TCP_NODELAY (Linux): set once here,
		 * not by the screen or a worker for every client.  Every reply
		 * leaves in one write, so Nagle could only delay one.
		 */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
		if (bind(fd, (struct sockaddr *)&ep.sa, ep.salen) < 0 ||
		    listen(fd, LISTEN_BACKLOG) < 0) {
			close(fd);
			goto syserr;
		}
		if ((l = calloc(1, sizeof(*l))) == NULL)
			msg_fatal("out of memory");
		l->fd = fd;
		l->boundlen = sizeof(l->bound);
		if (getsockname(fd, (struct sockaddr *)&l->bound, &l->boundlen) < 0)
			l->wildcard = 1;
		else
			l->wildcard = listener_is_wildcard((struct sockaddr *)&l->bound);
		addr_listener_str((struct sockaddr *)&ep.sa, l->name, sizeof(l->name));
		ev_io_init(&l->io, listener_accept, fd, EV_READ);
		l->io.data = l;
		ev_init(&l->pause, listener_resume);
		l->pause.data = l;
		l->next = listeners;
		listeners = l;
		continue;
syserr:
		snprintf(err->file, sizeof(err->file), "%s", file);
		err->line = line;
		snprintf(err->reason, sizeof(err->reason), "cannot listen on %.200s: %s",
		    v[i], strerror(errno));
		return (-1);
	}
	if (listeners == NULL) {
		snprintf(err->file, sizeof(err->file), "%s", file);
		err->line = line;
		snprintf(err->reason, sizeof(err->reason), "listen is empty");
		return (-1);
	}
	return (0);
}

void
listeners_start(void)
{
	struct listener *l;

	for (l = listeners; l != NULL; l = l->next)
		ev_io_start(screen.loop, &l->io);
}

void
listeners_close(void)
{
	struct listener *l;

	for (l = listeners; l != NULL; l = l->next) {
		ev_io_stop(screen.loop, &l->io);
		ev_timer_stop(screen.loop, &l->pause);
		if (l->fd >= 0)
			close(l->fd);
		l->fd = -1;
	}
}
