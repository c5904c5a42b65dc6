/*
 * relay-ceiling - the floor under a relayed greeting on this machine
 * (doorman benchmarks; not part of doorman).
 *
 * The least work any front end must do to show a client its MTA's own
 * greeting: one process, one libev loop, no screening, no fd passing,
 * no log.  Accept the client, connect to the upstream, copy the
 * upstream's greeting to the client, answer QUIT with 221 (sending
 * QUIT on), close both.  Run under the load of doorman's b figure,
 * its final-220 latency is what the kernel, the upstream (smtp-sink)
 * and the load generator alone cost; doorman's figure is read beside
 * it.  A second port (-z) holds silent clients the way the screen
 * does (a "220-" teaser, then nothing), so that the zombies of b can
 * sit in the same epoll set.
 *
 * usage: relay-ceiling -l ADDR:PORT -u ADDR:PORT [-z ADDR:PORT] [-t SECONDS]
 * It exits after -t seconds (default 600) and at SIGTERM/SIGINT.
 */
#define _GNU_SOURCE
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

struct relay {
	ev_io	cw;		/* client */
	ev_io	uw;		/* upstream */
	int	greeted;	/* the upstream's greeting went to the client */
};

static struct sockaddr_in upstream;
static const char teaser[] = "220-relay-ceiling ESMTP\r\n";
static const char bye[] = "221 2.0.0 Bye\r\n";

static void
relay_end(struct ev_loop *loop, struct relay *r)
{
	ev_io_stop(loop, &r->cw);
	close(r->cw.fd);
	if (r->uw.fd >= 0) {
		ev_io_stop(loop, &r->uw);
		close(r->uw.fd);
	}
	free(r);
}

/* One read; -2 when there is nothing yet (the loop calls again). */
static ssize_t
read_ready(int fd, char *buf, size_t cap)
{
	ssize_t	n = read(fd, buf, cap);

	return (n < 0 && (errno == EAGAIN || errno == EINTR) ? -2 : n);
}

/*
 * Either socket of a relay is readable.  The upstream's: its greeting
 * (one read is all smtp-sink needs), copied to the client.  The
 * client's: its QUIT (or anything) gets 221, QUIT goes on, both close.
 */
static void
on_relay_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct relay *r = w->data;
	char	buf[1024];
	ssize_t	n;

	(void)revents;
	if ((n = read_ready(w->fd, buf, sizeof(buf))) == -2)
		return;
	if (w == &r->uw) {
		if (n > 0 && !r->greeted && write(r->cw.fd, buf, (size_t)n) == n) {
			r->greeted = 1;
			ev_io_stop(loop, &r->uw);
			ev_io_start(loop, &r->cw);
			return;
		}
	} else if (n > 0) {
		(void)!write(w->fd, bye, sizeof(bye) - 1);
		(void)!write(r->uw.fd, "QUIT\r\n", 6);
	}
	relay_end(loop, r);
}

static void
on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct relay *r;
	int	fd, ufd, i, on = 1;

	(void)revents;
	for (i = 0; i < 64; i++) {
		if ((fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0)
			return;
		ufd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (ufd < 0 || (r = calloc(1, sizeof(*r))) == NULL) {
			if (ufd >= 0)
				close(ufd);
			close(fd);
			continue;
		}
		(void)setsockopt(ufd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
		if (connect(ufd, (struct sockaddr *)&upstream, sizeof(upstream)) < 0 &&
		    errno != EINPROGRESS) {
			close(ufd);
			close(fd);
			free(r);
			continue;
		}
		ev_io_init(&r->cw, on_relay_io, fd, EV_READ);
		ev_io_init(&r->uw, on_relay_io, ufd, EV_READ);
		r->cw.data = r->uw.data = r;
		ev_io_start(loop, &r->uw);
	}
}

static void
on_zombie(struct ev_loop *loop, ev_io *w, int revents)
{
	char	buf[512];
	ssize_t	n;

	(void)revents;
	if ((n = read_ready(w->fd, buf, sizeof(buf))) > 0 || n == -2)
		return;
	ev_io_stop(loop, w);
	close(w->fd);
	free(w);
}

static void
on_accept_zombie(struct ev_loop *loop, ev_io *w, int revents)
{
	ev_io	*z;
	int	fd, i;

	(void)revents;
	for (i = 0; i < 64; i++) {
		if ((fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0)
			return;
		if ((z = malloc(sizeof(*z))) == NULL) {
			close(fd);
			continue;
		}
		(void)!write(fd, teaser, sizeof(teaser) - 1);
		ev_io_init(z, on_zombie, fd, EV_READ);
		ev_io_start(loop, z);
	}
}

static void
on_stop(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

static void
on_lifetime(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

static int
parse_addr(const char *s, struct sockaddr_in *sin)
{
	char	host[64];
	const char *colon = strrchr(s, ':');

	if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
		return (-1);
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((unsigned short)atoi(colon + 1));
	return (inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -1);
}

static int
listen_on(const char *s)
{
	struct sockaddr_in sin;
	int	fd, on = 1;

	if (parse_addr(s, &sin) < 0) {
		fprintf(stderr, "relay-ceiling: bad address %s\n", s);
		exit(2);
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(fd, 4096) < 0) {
		fprintf(stderr, "relay-ceiling: listen on %s: %s\n", s, strerror(errno));
		exit(1);
	}
	return (fd);
}

int
main(int argc, char **argv)
{
	struct ev_loop *loop = EV_DEFAULT;
	ev_io	lw, zw;
	ev_signal s1, s2;
	ev_timer life;
	struct rlimit rl;
	const char *lst = NULL, *up = NULL, *zom = NULL;
	double	lifetime = 600;
	int	c;

	while ((c = getopt(argc, argv, "l:u:z:t:")) != -1) {
		switch (c) {
		case 'l': lst = optarg; break;
		case 'u': up = optarg; break;
		case 'z': zom = optarg; break;
		case 't': lifetime = atof(optarg); break;
		default: lst = NULL; break;
		}
	}
	if (lst == NULL || up == NULL || parse_addr(up, &upstream) < 0) {
		fprintf(stderr, "usage: relay-ceiling -l ADDR:PORT -u ADDR:PORT "
		    "[-z ADDR:PORT] [-t SECONDS]\n");
		return (2);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	ev_io_init(&lw, on_accept, listen_on(lst), EV_READ);
	ev_io_start(loop, &lw);
	if (zom != NULL) {
		ev_io_init(&zw, on_accept_zombie, listen_on(zom), EV_READ);
		ev_io_start(loop, &zw);
	}
	ev_signal_init(&s1, on_stop, SIGTERM);
	ev_signal_init(&s2, on_stop, SIGINT);
	ev_signal_start(loop, &s1);
	ev_signal_start(loop, &s2);
	if (lifetime > 0) {
		ev_timer_init(&life, on_lifetime, lifetime, 0);
		ev_timer_start(loop, &life);
	}
	ev_run(loop, 0);
	return (0);
}
