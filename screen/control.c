/*
 * control - one tiny request/answer server for two listeners.
 *
 * A peer connects, sends one request (a line on the control socket, an
 * HTTP request on the metrics port), gets one text answer and the
 * connection closes.  The answer is built in memory first (it is a few
 * KiB) and written without blocking the loop; every peer has a deadline,
 * and the request is bounded, so a stuck peer costs little.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <ev.h>

#include "cache/cache.h"
#include "conf/addr.h"
#include "conf/log.h"
#include "rbl/rbl.h"
#include "screen/clients.h"
#include "screen/control.h"
#include "screen/pool.h"
#include "screen/screen.h"

#define CONTROL_REQUEST_MAX	4096
#define CONTROL_DEADLINE	5.0
#define EX_TEMPFAIL		75

enum control_kind {
	CONTROL_STATUS,
	CONTROL_METRICS
};

struct control_listener {
	int	fd;
	enum control_kind kind;
	ev_io	io;
};

struct control_peer {
	int	fd;
	enum control_kind kind;
	ev_io	io;
	ev_timer deadline;
	char	req[CONTROL_REQUEST_MAX];
	size_t	reqlen;
	char   *out;
	size_t	outlen, outpos;
};

static struct control_listener ctl_status = { .fd = -1 };
static struct control_listener ctl_metrics = { .fd = -1 };
static char ctl_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

static void
control_peer_free(struct control_peer *p)
{
	ev_io_stop(screen.loop, &p->io);
	ev_timer_stop(screen.loop, &p->deadline);
	close(p->fd);
	free(p->out);
	free(p);
}

static void
status_text(FILE *fp)
{
	size_t greet = screen.greet_wait[0].count + screen.greet_wait[1].count;
	size_t engine = screen.command_time[0].count + screen.command_time[1].count;
	size_t speak = screen.first_command[0].count + screen.first_command[1].count;
	size_t queued = pool_post_queue();
	const struct screen_counters *n = &screen.n;

	fprintf(fp, "doorman pid %d, up %.0fs\n", (int)getpid(),
	    ev_now(screen.loop) - screen.started);
	fprintf(fp, "connections held: %zu (early tests: %zu, dummy engine: %zu, "
	    "greeted, waiting for a command: %zu, waiting for a worker: %zu, other: %zu), "
	    "distinct clients: %zu, limit: %ld\n",
	    screen.held, greet, engine, speak, queued,
	    screen.held - greet - engine - speak - queued,
	    clients_count(), screen.p.pre_queue_limit);
	fprintf(fp, "screen STRESS: %s\n", screen.stress ? "on" : "off");
	pool_status(fp);
	if (screen.cache != NULL)
		fprintf(fp, "cache: %s, %zu entries\n", cache_name(screen.cache),
		    cache_size(screen.cache));
	else
		fprintf(fp, "cache: none\n");
	fprintf(fp, "counters: connections=%lu allowlisted=%lu denylisted=%lu pregreet=%lu "
	    "hangup=%lu dnsbl_listed=%lu dnsbl_allowlisted=%lu pass_new=%lu pass_old=%lu "
	    "handed_off=%lu rejected_busy=%lu rejected_conn_limit=%lu rejected_pre_queue=%lu\n",
	    n->connections, n->allowlisted, n->denylisted, n->pregreet, n->hangup,
	    n->dnsbl_listed, n->dnsbl_allowlisted, n->pass_new, n->pass_old, n->handed_off,
	    n->rejected_busy, n->rejected_conn_limit, n->rejected_pre_queue);
	rbl_stats_print(screen.rbl, fp);
}

static void
metrics_counter(FILE *fp, const char *name, const char *help, const char *label,
    const char *const *values, const unsigned long *counts, int n)
{
	int i;

	fprintf(fp, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
	for (i = 0; i < n; i++)
		fprintf(fp, "%s{%s=\"%s\"} %lu\n", name, label, values[i], counts[i]);
}

static void
metrics_text(FILE *fp)
{
	static const char *verdicts[] = { "allowlisted", "denylisted", "pass_new", "pass_old",
	    "rejected_busy", "rejected_conn_limit", "rejected_pre_queue" };
	static const char *tests[] = { "pregreet", "dnsbl", "dnsbl_allowlist", "hangup" };
	const struct screen_counters *n = &screen.n;
	unsigned long v[] = { n->allowlisted, n->denylisted, n->pass_new, n->pass_old,
	    n->rejected_busy, n->rejected_conn_limit, n->rejected_pre_queue };
	unsigned long t[] = { n->pregreet, n->dnsbl_listed, n->dnsbl_allowlisted, n->hangup };

	fprintf(fp, "# HELP doorman_build_info doorman's build.\n# TYPE doorman_build_info gauge\n"
	    "doorman_build_info{version=\"" DOORMAN_VERSION "\"} 1\n");
	fprintf(fp, "# HELP doorman_connections_total Connections accepted by the screen.\n"
	    "# TYPE doorman_connections_total counter\ndoorman_connections_total %lu\n",
	    n->connections);
	metrics_counter(fp, "doorman_verdicts_total", "Screening outcomes.", "verdict",
	    verdicts, v, 7);
	metrics_counter(fp, "doorman_test_failures_total", "Failed tests (and hang-ups).",
	    "test", tests, t, 4);
	fprintf(fp, "# HELP doorman_handoffs_total Clients passed to a worker.\n"
	    "# TYPE doorman_handoffs_total counter\ndoorman_handoffs_total %lu\n", n->handed_off);
	fprintf(fp, "# HELP doorman_held_connections Connections the screen holds now.\n"
	    "# TYPE doorman_held_connections gauge\ndoorman_held_connections %zu\n", screen.held);
	fprintf(fp, "# HELP doorman_post_queue_clients Clients waiting for a worker.\n"
	    "# TYPE doorman_post_queue_clients gauge\ndoorman_post_queue_clients %zu\n",
	    pool_post_queue());
	fprintf(fp, "# HELP doorman_stress Stress state (1 = on).\n# TYPE doorman_stress gauge\n"
	    "doorman_stress{kind=\"screen\"} %d\ndoorman_stress{kind=\"pool\"} %d\n",
	    screen.stress ? 1 : 0, pool_in_stress() ? 1 : 0);
	pool_metrics_print(fp);
	if (screen.cache != NULL)
		fprintf(fp, "# HELP doorman_cache_entries Entries in the screening cache.\n"
		    "# TYPE doorman_cache_entries gauge\ndoorman_cache_entries %zu\n",
		    cache_size(screen.cache));
	rbl_metrics_print(screen.rbl, fp);
}

/* Build the whole answer in memory. */
static void
control_answer(struct control_peer *p)
{
	FILE *fp = open_memstream(&p->out, &p->outlen);

	if (fp == NULL)
		return;
	if (p->kind == CONTROL_METRICS) {
		if (strncmp(p->req, "GET /metrics", 12) == 0 || strncmp(p->req, "GET / ", 6) == 0) {
			fprintf(fp, "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
			    "Connection: close\r\n\r\n");
			metrics_text(fp);
		} else
			fprintf(fp, "HTTP/1.0 404 Not Found\r\nConnection: close\r\n\r\n");
	} else if (strncmp(p->req, "status", 6) == 0) {
		status_text(fp);
	} else {
		fprintf(fp, "unknown request\n");
	}
	fclose(fp);
}

static void
control_peer_event(struct ev_loop *loop, ev_io *io, int revents)
{
	struct control_peer *p = io->data;
	ssize_t n;

	(void)revents;
	if (p->out == NULL) {
		n = recv(p->fd, p->req + p->reqlen, sizeof(p->req) - 1 - p->reqlen, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			control_peer_free(p);
			return;
		}
		p->reqlen += (size_t)n;
		p->req[p->reqlen] = '\0';
		/* A line (status) or the end of the HTTP headers (metrics). */
		if (strstr(p->req, p->kind == CONTROL_METRICS ? "\r\n\r\n" : "\n") == NULL &&
		    strstr(p->req, "\n\n") == NULL && p->reqlen < sizeof(p->req) - 1)
			return;
		control_answer(p);
		if (p->out == NULL) {
			control_peer_free(p);
			return;
		}
		ev_io_stop(loop, io);
		ev_io_set(io, p->fd, EV_WRITE);
		ev_io_start(loop, io);
		return;
	}
	n = send(p->fd, p->out + p->outpos, p->outlen - p->outpos, MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		p->outpos += (size_t)n;
	if (n <= 0 || p->outpos == p->outlen)
		control_peer_free(p);
}

static void
control_deadline(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop;
	(void)revents;
	control_peer_free(t->data);
}

static void
control_accept(struct ev_loop *loop, ev_io *io, int revents)
{
	struct control_listener *l = io->data;
	struct control_peer *p;
	int fd;

	(void)revents;
	if ((fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0)
		return;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		close(fd);
		return;
	}
	p->fd = fd;
	p->kind = l->kind;
	ev_io_init(&p->io, control_peer_event, fd, EV_READ);
	p->io.data = p;
	ev_io_start(loop, &p->io);
	ev_timer_init(&p->deadline, control_deadline, CONTROL_DEADLINE, 0);
	p->deadline.data = p;
	ev_timer_start(loop, &p->deadline);
}

static void
control_listen(struct control_listener *l, int fd, enum control_kind kind)
{
	l->fd = fd;
	l->kind = kind;
	ev_io_init(&l->io, control_accept, fd, EV_READ);
	l->io.data = l;
	ev_io_start(screen.loop, &l->io);
	/* The control listeners alone must not keep the loop alive. */
	ev_unref(screen.loop);
}

static int
control_err(struct conf *c, const char *name, struct conf_err *err, const char *what)
{
	const char *file;

	conf_origin(c, name, &file, &err->line);
	snprintf(err->file, sizeof(err->file), "%s", file);
	snprintf(err->reason, sizeof(err->reason), "%s: %s", what, strerror(errno));
	return (-1);
}

int
control_open(struct conf *c, struct conf_err *err)
{
	const char *metrics = conf_str(c, "metrics_listen"), *why;
	struct sockaddr_un sun;
	struct endpoint ep;
	mode_t old;
	int fd, on = 1;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(ctl_path, sizeof(ctl_path), "%s/doorman.ctl", conf_str(c, "data_directory"));
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", ctl_path);
	(void)unlink(ctl_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return (control_err(c, "data_directory", err, "control socket"));
	old = umask(077);	/* owner-only from the start, not after a chmod */
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, 16) < 0) {
		umask(old);
		close(fd);
		return (control_err(c, "data_directory", err, ctl_path));
	}
	umask(old);
	(void)chmod(ctl_path, 0600);
	control_listen(&ctl_status, fd, CONTROL_STATUS);

	if (*metrics == '\0')
		return (0);
	if (addr_parse_endpoint(metrics, &ep, &why) != 0 || ep.sa.ss_family == AF_UNIX) {
		errno = EINVAL;
		return (control_err(c, "metrics_listen", err, metrics));
	}
	if ((fd = socket(ep.sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return (control_err(c, "metrics_listen", err, metrics));
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&ep.sa, ep.salen) < 0 || listen(fd, 16) < 0) {
		close(fd);
		return (control_err(c, "metrics_listen", err, metrics));
	}
	control_listen(&ctl_metrics, fd, CONTROL_METRICS);
	return (0);
}

void
control_close(void)
{
	struct control_listener *l[] = { &ctl_status, &ctl_metrics };
	size_t i;

	for (i = 0; i < 2; i++) {
		if (l[i]->fd < 0)
			continue;
		ev_ref(screen.loop);
		ev_io_stop(screen.loop, &l[i]->io);
		close(l[i]->fd);
		l[i]->fd = -1;
	}
	if (ctl_path[0] != '\0')
		(void)unlink(ctl_path);
}

int
control_status_command(struct conf *c)
{
	struct sockaddr_un sun;
	char buf[4096];
	ssize_t n;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/doorman.ctl",
	    conf_str(c, "data_directory"));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "doorman: cannot reach the daemon at %s: %s\n", sun.sun_path,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return (EX_TEMPFAIL);
	}
	if (write(fd, "status\n", 7) != 7) {
		close(fd);
		return (EX_TEMPFAIL);
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	close(fd);
	return (n < 0 ? EX_TEMPFAIL : 0);
}
