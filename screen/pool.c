/*
 * pool - spawn, feed and supervise the doorman-smtpd workers.
 *
 * Each worker has one SOCK_SEQPACKET socketpair.  The screen sends a
 * hand-off record with the client fd; the worker answers one-byte
 * statuses: READY (started), BUSY (took the fd: only now does the
 * screen close its copy), DONE (idle again).  Closing the channel tells
 * a worker to exit after its session, as master closes a status pipe.
 *
 * A session sent to a worker that dies before BUSY goes back to the
 * post-queue: a client is never lost silently.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/handoff.h"
#include "conf/addr.h"
#include "conf/log.h"
#include "screen/clients.h"
#include "screen/listener.h"
#include "screen/pool.h"
#include "screen/screen.h"
#include "screen/session.h"
#include "screen/spawner.h"

extern char **environ;

#define POOL_THROTTLE_MAX	60.0	/* seconds, as master's service_throttle_time */
#define POOL_HANDOFF_TRIES	3	/* workers a client may be sent to */
#define POOL_SPAWN_BURST	8	/* workers starting at once */
#define POOL_SPAWN_GRACE	0.005	/* seconds a client waits for a busy worker first */
#define WORKER_FD		SPAWNER_CHANNEL_FD
#define POOL_EARLY_EXITS	16	/* exits seen before the spawner's reply */

enum worker_state {
	W_STARTING,	/* spawned, no READY yet */
	W_IDLE,
	W_SENT,		/* a record is on its way; waiting for BUSY */
	W_BUSY,
	W_RETIRING	/* channel closed by us; waiting for it to exit */
};

enum pool_stress_mode {
	STRESS_ADAPTIVE,
	STRESS_ON,
	STRESS_OFF
};

struct worker {
	struct worker *next, *prev;
	enum worker_state state;
	pid_t	pid;			/* 0 until the spawner has replied */
	unsigned long spawn_seq;	/* which spawner reply is ours */
	int	fd;			/* -1 once the channel is closed */
	int	stress;			/* started with -o stress=yes */
	int	reaped;
	int	served;			/* sessions it took */
	int	was_ready;		/* it said READY at least once */
	ev_tstamp started;
	ev_tstamp busy_since;		/* its BUSY for the current session */
	ev_io	io;
	struct session *sent;		/* W_SENT: the session on its way */
	struct client_ip *cip;		/* W_BUSY: whose session it runs */
};

static struct {
	struct worker *head;
	int	count;			/* workers not retiring */
	int	limit;
	struct timerlist waitq;		/* the post-queue, oldest first */
	char	path[4096];		/* doorman-smtpd */
	enum pool_stress_mode mode;
	int	stress;			/* pool is in stress */
	ev_tstamp stress_since;
	ev_tstamp last_saturation;
	ev_tstamp last_warning;
	ev_tstamp warning_interval;
	ev_tstamp cooldown;
	ev_tstamp throttle_until;
	ev_tstamp throttle_delay;
	ev_tstamp restart_delay;
	ev_timer tick;			/* ends a throttle, checks the cool-down */
	ev_timer grace;			/* the end of POOL_SPAWN_GRACE */
	ev_tstamp session_avg;		/* moving average of a session in a worker */
	ev_child children;		/* every child of the screen */
	ev_io	spawner_io;		/* the spawner's replies */
	unsigned long spawn_requests, spawn_replies;
	struct {
		pid_t	pid;
		int	status;
	} early[POOL_EARLY_EXITS];	/* reaped before we knew the pid */
	int	nearly;
	char	master_tag[128];
	int	shutting_down;
} pool;

static void pool_dispatch(void);
static void pool_retire_idle_mismatched(void);

static const char *
pool_service(void)
{
	return (screen.p.service_name);
}

static void
pool_unlink(struct worker *w)
{
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		pool.head = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
}

static void
pool_free_if_done(struct worker *w)
{
	if (w->fd >= 0 || !w->reaped)
		return;
	pool_unlink(w);
	free(w);
}

/* Close the channel: an idle worker exits now, a busy one after its session. */
static void
pool_retire(struct worker *w)
{
	if (w->fd < 0)
		return;
	if (w->state != W_RETIRING)
		pool.count--;
	ev_io_stop(screen.loop, &w->io);
	close(w->fd);
	w->fd = -1;
	w->state = W_RETIRING;
	if (w->cip != NULL) {
		clients_release_worker(w->cip);
		w->cip = NULL;
	}
	if (w->sent != NULL) {
		struct session *s = w->sent;

		/* Never handed over: back to the post-queue, a few times. */
		w->sent = NULL;
		if (++s->handoff_tries >= POOL_HANDOFF_TRIES) {
			msg_warn_tag(pool.master_tag, "worker pid %d ended before taking %s: "
			    "giving up after %d tries", (int)w->pid, session_client_str(s),
			    s->handoff_tries);
			session_refuse(s, "421 4.3.2 Service currently unavailable");
		} else {
			msg_warn_tag(pool.master_tag, "worker pid %d ended before taking %s: "
			    "requeued", (int)w->pid, session_client_str(s));
			pool_submit(s);
		}
	}
}

/*
 * The worker's statuses: R when it can take a client (after start, and
 * after each session it will follow with another), B when it has the
 * fd, D when a session is over.  A worker that answers R to a record
 * did not take it (a bad record): the client goes back to the queue.
 */
static void
pool_worker_status(struct worker *w, char status)
{
	struct session *s;

	switch (status) {
	case HANDOFF_READY:
		w->was_ready = 1;
		if (w->state == W_SENT && (s = w->sent) != NULL) {
			/*
			 * It did not take the record (a different version of
			 * doorman-smtpd on disk?): replace it; the client goes
			 * back to the queue.
			 */
			msg_warn_tag(pool.master_tag, "worker pid %d refused the hand-off of %s",
			    (int)w->pid, session_client_str(s));
			pool_retire(w);
			return;
		}
		/*
		 * A worker of the wrong stress flavour leaves when idle; one
		 * that has just started still serves a waiting client first
		 * (it leaves at its DONE), rather than leave it waiting.
		 */
		if (pool.shutting_down || (w->stress != pool.stress &&
		    (w->served > 0 || pool.waitq.count == 0))) {
			pool_retire(w);
			return;
		}
		w->state = W_IDLE;
		break;
	case HANDOFF_DONE:
		if (w->busy_since > 0)
			pool.session_avg += (ev_now(screen.loop) - w->busy_since -
			    pool.session_avg) / 16;
		w->busy_since = 0;
		if (w->cip != NULL) {
			clients_release_worker(w->cip);
			w->cip = NULL;
		}
		pool.throttle_delay = 0;
		if (pool.shutting_down || w->stress != pool.stress) {
			pool_retire(w);
			return;
		}
		/* Idle only once it says R: it may be leaving (max_use). */
		w->state = W_STARTING;
		break;
	case HANDOFF_BUSY:
		if (w->state != W_SENT || w->sent == NULL) {
			msg_warn_tag(pool.master_tag, "worker pid %d: unexpected busy status",
			    (int)w->pid);
			break;
		}
		w->cip = w->sent->cip;
		w->cip->in_workers++;
		w->served++;
		w->busy_since = ev_now(screen.loop);
		session_handed_off(w->sent);
		w->sent = NULL;
		w->state = W_BUSY;
		break;
	default:
		msg_warn_tag(pool.master_tag, "worker pid %d: unknown status 0x%02x",
		    (int)w->pid, (unsigned char)status);
		break;
	}
}

/*
 * Read the statuses a worker has sent: one message per readiness
 * event (the loop reports the socket again while more wait, and a
 * read that finds nothing is a wasted system call per session); with
 * all, until none is left (it has exited: its last BUSY and DONE must
 * count before its end).
 */
static void
pool_read_statuses(struct worker *w, int all)
{
	char statuses[16];
	int rc, i, j;

	for (i = 0; (all || i < 1) && w->fd >= 0; i++) {
		rc = handoff_recv_status(w->fd, statuses, sizeof(statuses));
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0 && errno == EAGAIN)
			break;
		if (rc <= 0) {
			pool_retire(w);
			break;
		}
		for (j = 0; j < rc && w->fd >= 0; j++)
			pool_worker_status(w, statuses[j]);
	}
}

static void
pool_channel_event(struct ev_loop *loop, ev_io *io, int revents)
{
	(void)loop;
	(void)revents;
	pool_read_statuses(io->data, 0);
	pool_dispatch();
}

/* No new worker for a while, longer each time: never fork-bomb a broken install. */
static void
pool_throttle(void)
{
	pool.throttle_delay = pool.throttle_delay == 0 ? pool.restart_delay :
	    pool.throttle_delay * 2;
	if (pool.throttle_delay > POOL_THROTTLE_MAX)
		pool.throttle_delay = POOL_THROTTLE_MAX;
	pool.throttle_until = ev_now(screen.loop) + pool.throttle_delay;
}

/* A worker has exited (reaped by the screen: it is the screen's child). */
static void
pool_worker_exited(struct worker *w, int st)
{
	/* SIGCHLD may come before its last statuses are read: read them first. */
	pool_read_statuses(w, 1);
	w->reaped = 1;
	if (WIFSIGNALED(st))
		msg_warn_tag(pool.master_tag, "process %s pid %d killed by signal %d",
		    pool.path, (int)w->pid, WTERMSIG(st));
	else if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
		msg_warn_tag(pool.master_tag, "process %s pid %d exit status %d",
		    pool.path, (int)w->pid, WEXITSTATUS(st));
	if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0) && w->served == 0) {
		/* It never served anyone: do not fork-bomb a broken install. */
		pool_throttle();
		if (!w->was_ready)
			msg_warn_tag(pool.master_tag, "%s: bad command startup -- throttling",
			    pool.path);
	}
	pool_retire(w);
	pool_free_if_done(w);
}

static struct worker *
pool_worker_by_pid(pid_t pid)
{
	struct worker *w;

	for (w = pool.head; w != NULL; w = w->next)
		if (w->pid == pid && !w->reaped)
			return (w);
	return (NULL);
}

static void
pool_spawner_close(void)
{
	if (spawner_fd() < 0)
		return;
	ev_ref(screen.loop);		/* pairs with the ev_unref at start */
	ev_io_stop(screen.loop, &pool.spawner_io);
	spawner_stop();
}

/* Without a spawner, workers start from the screen itself (slower). */
static void
pool_spawner_lost(void)
{
	struct worker *w;

	if (spawner_fd() < 0)
		return;
	msg_warn_tag(pool.master_tag, "worker spawner pid %d is gone: starting workers directly",
	    (int)spawner_pid());
	pool_spawner_close();
	pool.spawn_replies = pool.spawn_requests;
	/* Requests it never answered: their workers may never start. */
	for (w = pool.head; w != NULL; w = w->next)
		if (w->pid == 0 && !w->reaped) {
			pool_retire(w);
			w->reaped = 1;
		}
	for (w = pool.head; w != NULL; ) {
		struct worker *next = w->next;

		pool_free_if_done(w);
		w = next;
	}
}

static void
pool_child_event(struct ev_loop *loop, ev_child *c, int revents)
{
	struct worker *w;

	(void)loop;
	(void)revents;
	if (c->rpid == spawner_pid()) {
		if (WIFSIGNALED(c->rstatus))
			msg_warn_tag(pool.master_tag, "worker spawner pid %d killed by signal %d",
			    (int)c->rpid, WTERMSIG(c->rstatus));
		else if (WIFEXITED(c->rstatus) && WEXITSTATUS(c->rstatus) != 0)
			msg_warn_tag(pool.master_tag, "worker spawner pid %d exit status %d",
			    (int)c->rpid, WEXITSTATUS(c->rstatus));
		pool_spawner_lost();
	} else if ((w = pool_worker_by_pid(c->rpid)) != NULL) {
		pool_worker_exited(w, c->rstatus);
	} else if (pool.spawn_replies < pool.spawn_requests) {
		/* Its pid is on its way from the spawner: keep the status. */
		if (pool.nearly == POOL_EARLY_EXITS)
			memmove(pool.early, pool.early + 1, sizeof(pool.early[0]) * --pool.nearly);
		pool.early[pool.nearly].pid = c->rpid;
		pool.early[pool.nearly++].status = c->rstatus;
	}
	pool_dispatch();
}

/* The spawner's answers, in the order of our requests. */
static void
pool_spawner_replies(void)
{
	struct worker *w;
	pid_t	pid;
	int	err, rc, i;

	while ((rc = spawner_reply(&pid, &err)) == 1) {
		unsigned long seq = pool.spawn_replies++;

		for (w = pool.head; w != NULL; w = w->next)
			if (w->pid == 0 && w->spawn_seq == seq && !w->reaped)
				break;
		if (w == NULL) {
			/* Its channel has gone already (pool_spawner_lost): nothing to track. */
			continue;
		}
		w->pid = pid;
		if (err != 0 && pid == 0) {
			/* It cannot clone (seccomp, valgrind...): do without it. */
			errno = err;
			msg_warn_tag(pool.master_tag, "worker spawner cannot start a process: %m");
			pool_spawner_lost();
			return;
		}
		if (err != 0) {
			/*
			 * The exec failed: the child exits (127) and is reaped
			 * as usual, which throttles (it never was ready).
			 */
			errno = err;
			msg_warn_tag(pool.master_tag, "cannot start %s: %m", pool.path);
			pool_retire(w);
		}
		for (i = 0; i < pool.nearly; i++)
			if (pool.early[i].pid == pid) {
				int st = pool.early[i].status;

				memmove(pool.early + i, pool.early + i + 1,
				    sizeof(pool.early[0]) * (size_t)(pool.nearly - i - 1));
				pool.nearly--;
				pool_worker_exited(w, st);
				break;
			}
	}
	if (rc == 0)
		pool_spawner_lost();
}

static void
pool_spawner_event(struct ev_loop *loop, ev_io *io, int revents)
{
	(void)loop;
	(void)io;
	(void)revents;
	pool_spawner_replies();
	pool_dispatch();
}

/*
 * Start a worker with its channel as fd 3, from the screen itself:
 * the fallback when there is no spawner.  posix_spawn (a vfork-style
 * clone in glibc) rather than fork: copying the page tables of a screen
 * that holds 20,000 connections would stall the loop for every worker.
 * Returns 0 or an errno value.
 */
static int
pool_exec(int chan, const char **argv, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, deflt;
	int rc, fd = chan;

	/* dup2(3, 3) would leave close-on-exec set. */
	if (fd == WORKER_FD && (fd = fcntl(chan, F_DUPFD_CLOEXEC, WORKER_FD + 1)) < 0)
		return (errno);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd, WORKER_FD);
	/* Nothing else of the screen's: the clients, the cache, the listeners. */
	posix_spawn_file_actions_addclosefrom_np(&fa, WORKER_FD + 1);
	posix_spawnattr_init(&at);
	/* libev blocks signals for its signalfd, and SIGPIPE is ignored here. */
	sigemptyset(&none);
	sigemptyset(&deflt);
	sigaddset(&deflt, SIGPIPE);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &deflt);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(pid, pool.path, &fa, &at, (char *const *)argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	if (fd != chan)
		close(fd);
	return (rc);
}

static int
pool_spawn(void)
{
	struct worker *w;
	const char *argv[2 * SCREEN_MAX_OVERRIDES + 8];
	char stress_arg[16];
	int sv[2], argc = 0, rc;
	size_t i;
	pid_t pid = 0;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) {
		msg_warn_tag(pool.master_tag, "socketpair: %m");
		return (-1);
	}
	snprintf(stress_arg, sizeof(stress_arg), "stress=%s", pool.stress ? "yes" : "");
	argv[argc++] = "doorman-smtpd";
	argv[argc++] = "-c";
	argv[argc++] = screen.config_dir;
	for (i = 0; screen.overrides != NULL && screen.overrides[i] != NULL; i++) {
		argv[argc++] = "-o";
		argv[argc++] = screen.overrides[i];
	}
	argv[argc++] = "-o";
	argv[argc++] = stress_arg;
	argv[argc++] = "-s";
	argv[argc++] = "3";
	argv[argc] = NULL;

	if (spawner_fd() >= 0) {
		if (spawner_request(pool.path, argv, sv[1], SPAWNER_TEMPLATE) != 0) {
			/* A full request queue: try again at the next dispatch. */
			if (errno != EAGAIN)
				pool_spawner_lost();
			close(sv[0]);
			close(sv[1]);
			return (-1);
		}
	} else if ((rc = pool_exec(sv[1], argv, &pid)) != 0) {
		errno = rc;
		msg_warn_tag(pool.master_tag, "cannot start %s: %m", pool.path);
		pool_throttle();
		close(sv[0]);
		close(sv[1]);
		return (-1);
	}
	close(sv[1]);
	if ((w = calloc(1, sizeof(*w))) == NULL)
		msg_fatal("out of memory");
	w->pid = pid;
	if (pid == 0)
		w->spawn_seq = pool.spawn_requests++;
	w->fd = sv[0];
	w->stress = pool.stress;
	w->state = W_STARTING;
	w->started = ev_now(screen.loop);
	ev_io_init(&w->io, pool_channel_event, w->fd, EV_READ);
	w->io.data = w;
	ev_io_start(screen.loop, &w->io);
	w->next = pool.head;
	if (pool.head != NULL)
		pool.head->prev = w;
	pool.head = w;
	pool.count++;
	return (0);
}

static void
pool_fill_record(const struct session *s, struct handoff *h)
{
	memset(h, 0, offsetof(struct handoff, pending));
	memcpy(&h->client, &s->client, sizeof(s->client));
	memcpy(&h->server, &s->server, sizeof(s->server));
	snprintf(h->listener, sizeof(h->listener), "%s", listener_name(s->listener));
	if (s->flags & SESSION_F_TEASER)
		h->flags |= HANDOFF_F_TEASER_SENT;
	if (s->flags & SESSION_F_ALLOWLISTED)
		h->flags |= HANDOFF_F_ALLOWLISTED;
	if (s->flags & SESSION_F_PASS_NEW)
		h->flags |= HANDOFF_F_PASS_NEW;
	if (s->flags & SESSION_F_PASS_OLD)
		h->flags |= HANDOFF_F_PASS_OLD;
	if (s->flags & SESSION_F_PREGREET_FAIL)
		h->flags |= HANDOFF_F_PREGREET_FAIL;
	if (s->flags & SESSION_F_DENY_FAIL)
		h->flags |= HANDOFF_F_DENYLISTED;
	if (s->flags & SESSION_F_DNSBL_FAIL)
		h->flags |= HANDOFF_F_DNSBL_FAIL;
	if (s->flags & SESSION_F_GREETED)
		h->flags |= HANDOFF_F_GREETED;
}

/* Send the session to an idle worker; 0 on success. */
static int
pool_send(struct worker *w, struct session *s)
{
	struct handoff h;

	pool_fill_record(s, &h);
	log_flush();	/* the screen's lines about the client come first */
	if (handoff_send(w->fd, &h, s->fd) != 0) {
		if (errno == EAGAIN)
			return (-1);
		msg_warn_tag(pool.master_tag, "cannot pass connection to worker pid %d: %m",
		    (int)w->pid);
		pool_retire(w);
		return (-1);
	}
	timerlist_remove(&s->te);
	s->state = SESSION_SENT;
	w->sent = s;
	w->state = W_SENT;
	return (0);
}

/* Idle workers of the other stress flavour go now; busy ones after their session. */
static void
pool_retire_idle_mismatched(void)
{
	struct worker *w, *next;

	for (w = pool.head; w != NULL; w = next) {
		next = w->next;
		if (w->state == W_IDLE && w->stress != pool.stress)
			pool_retire(w);
	}
}

static void
pool_warn_saturated(const struct session *s)
{
	ev_tstamp now = ev_now(screen.loop);
	char where[ADDR_STRLEN];

	pool.last_saturation = now;
	if (pool.last_warning == 0 || now - pool.last_warning >= pool.warning_interval) {
		pool.last_warning = now;
		msg_warn_tag(pool.master_tag, "service \"%s\" (%s) has reached its process limit \"%d\": "
		    "new clients may experience noticeable delays", pool_service(),
		    addr_listener_str(&s->server.sa, where, sizeof(where)), pool.limit);
		msg_warn_tag(pool.master_tag, "to avoid this condition, increase backend_process_limit "
		    "in doorman.cf or reduce the service time per client");
		msg_warn_tag(pool.master_tag, "see https://www.postfix.org/STRESS_README.html "
		    "for examples of stress-adapting configuration settings");
	}
	if (pool.mode == STRESS_ADAPTIVE && !pool.stress) {
		pool.stress = 1;
		pool.stress_since = now;
		msg_info_tag(pool.master_tag, "service \"%s\": entering stress mode: "
		    "workers restart with -o stress=yes", pool_service());
		pool_retire_idle_mismatched();
	}
}

static void
pool_check_cooldown(void)
{
	ev_tstamp now = ev_now(screen.loop);

	if (pool.mode != STRESS_ADAPTIVE || !pool.stress ||
	    now - pool.last_saturation < pool.cooldown)
		return;
	pool.stress = 0;
	msg_info_tag(pool.master_tag, "service \"%s\": leaving stress mode after %lds without "
	    "saturation: workers restart with -o stress=", pool_service(),
	    (long)(now - pool.last_saturation));
	pool_retire_idle_mismatched();
}

static void
pool_tick_event(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop;
	(void)t;
	(void)revents;
	pool_check_cooldown();
	pool_dispatch();
}

static struct session *
pool_queue_head(void)
{
	struct timer_entry *te = pool.waitq.head;

	return (te == NULL ? NULL : session_of_timer(te));
}

/*
 * Give waiting clients to idle workers; start workers for the others,
 * one per waiting client and at most POOL_SPAWN_BURST at a time (a
 * short burst of clients is usually served by workers that finish in
 * the meantime: forking for each would overshoot the pool).  The pool
 * is saturated when every one of backend_process_limit workers is busy.
 */
static void
pool_dispatch(void)
{
	struct worker *w;
	int starting = 0, busy = 0;
	ev_tstamp waited;

	if (pool.shutting_down)
		return;
	for (w = pool.head; w != NULL; w = w->next) {
		if (w->state == W_IDLE && pool.waitq.count > 0)
			(void)pool_send(w, pool_queue_head());
		if (w->state == W_STARTING)
			starting++;
		else if (w->state == W_SENT || w->state == W_BUSY)
			busy++;
	}
	if (pool.waitq.count == 0)
		return;
	if (busy >= pool.limit)
		pool_warn_saturated(pool_queue_head());
	if (ev_now(screen.loop) < pool.throttle_until)
		return;
	/*
	 * A worker takes a millisecond or two to start.  While sessions
	 * are shorter than POOL_SPAWN_GRACE (clients that connect and
	 * quit), give the busy workers that long to free up before
	 * starting more, or every burst of such clients would grow the
	 * pool (and its CPU, and its max_use churn) for nothing.  Longer
	 * sessions will not end in time: start one at once.
	 */
	waited = ev_now(screen.loop) - (pool.waitq.head->deadline - pool.waitq.interval);
	if (pool.count > 0 && pool.session_avg < POOL_SPAWN_GRACE &&
	    waited < POOL_SPAWN_GRACE) {
		if (!ev_is_active(&pool.grace)) {
			ev_timer_set(&pool.grace, POOL_SPAWN_GRACE - waited, 0.);
			ev_timer_start(screen.loop, &pool.grace);
		}
		return;
	}
	while ((size_t)starting < pool.waitq.count && starting < POOL_SPAWN_BURST &&
	    pool.count < pool.limit) {
		if (pool_spawn() != 0)
			break;
		starting++;
	}
}

static void
pool_queue_expired(struct timer_entry *te)
{
	struct session *s = session_of_timer(te);

	msg_info("NOQUEUE: reject: CONNECT from %s: all server ports busy",
	    session_client_str(s));
	screen.n.rejected_busy++;
	session_refuse(s, "421 4.3.2 All server ports are busy");
}

void
pool_submit(struct session *s)
{
	if (pool.shutting_down || pool.waitq.count >= (size_t)screen.p.post_queue_limit) {
		msg_info("NOQUEUE: reject: CONNECT from %s: all server ports busy",
		    session_client_str(s));
		screen.n.rejected_busy++;
		session_refuse(s, "421 4.3.2 All server ports are busy");
		return;
	}
	ev_io_stop(screen.loop, &s->io);
	/*
	 * With backend_upstream_greeting = local the worker's greeting is
	 * $smtpd_banner anyway: send it from here, at once, rather than
	 * after a worker has been scheduled; the client comes back here
	 * when it speaks.
	 */
	if (screen.p.local_greeting && !(s->flags & SESSION_F_GREETED)) {
		session_greet_and_wait(s);
		return;
	}
	s->state = SESSION_QUEUED;
	timerlist_add(&pool.waitq, &s->te, pool_queue_expired);
	pool_dispatch();
}

/* The settings a reload may change; workers pick up their own config when replaced. */
void
pool_configure(struct conf *c)
{
	const char *mode = conf_str(c, "backend_stress");
	enum pool_stress_mode old = pool.mode;

	pool.limit = (int)conf_int(c, "backend_process_limit");
	pool.warning_interval = conf_time(c, "backend_stress_warning_interval");
	pool.cooldown = conf_time(c, "backend_stress_cooldown");
	pool.restart_delay = conf_time(c, "backend_restart_delay");
	if (pool.restart_delay <= 0)
		pool.restart_delay = 1;
	pool.mode = strcmp(mode, "on") == 0 ? STRESS_ON :
	    strcmp(mode, "off") == 0 ? STRESS_OFF : STRESS_ADAPTIVE;
	if (pool.mode != old || pool.waitq.loop == NULL) {
		pool.stress = pool.mode == STRESS_ON;
		pool.stress_since = ev_now(screen.loop);
		if (pool.mode == STRESS_ON)
			msg_info_tag(pool.master_tag,
			    "backend_stress = on: workers run with -o stress=yes");
		pool_retire_idle_mismatched();
	}
	pool.waitq.interval = screen.p.post_queue_timeout;
}

void
pool_init(int spawner_err)
{
	struct conf *c = screen.conf;
	const char *dir = conf_str(c, "daemon_directory");

	if (*dir == '\0')
		dir = screen.exe_dir;
	snprintf(pool.path, sizeof(pool.path), "%s/doorman-smtpd", dir);
	snprintf(pool.master_tag, sizeof(pool.master_tag), "%s/master",
	    conf_str(c, "syslog_name"));
	pool_configure(c);
	timerlist_init(&pool.waitq, screen.loop, screen.p.post_queue_timeout);
	/* Every child is reaped here, workers by pid, whoever started them. */
	ev_child_init(&pool.children, pool_child_event, 0, 0);
	ev_child_start(screen.loop, &pool.children);
	ev_unref(screen.loop);
	if (spawner_fd() < 0) {
		errno = spawner_err;
		msg_warn_tag(pool.master_tag, "cannot start the worker spawner: %m: "
		    "starting workers directly");
	} else {
		ev_io_init(&pool.spawner_io, pool_spawner_event, spawner_fd(), EV_READ);
		ev_io_start(screen.loop, &pool.spawner_io);
		ev_unref(screen.loop);
	}
	/* The cool-down is checked on a slow tick, cheap and good to a second. */
	ev_timer_init(&pool.grace, pool_tick_event, 0., 0.);
	ev_timer_init(&pool.tick, pool_tick_event, 1.0, 1.0);
	ev_timer_start(screen.loop, &pool.tick);
	ev_unref(screen.loop);
}

void
pool_shutdown(void)
{
	struct worker *w, *next;
	struct session *s;

	pool.shutting_down = 1;
	pool_spawner_close();
	while ((s = pool_queue_head()) != NULL)
		session_refuse(s, "421 4.3.2 Service shutting down");
	for (w = pool.head; w != NULL; w = next) {
		next = w->next;
		pool_retire(w);
	}
}

int
pool_active(void)
{
	struct worker *w;
	int n = 0;

	for (w = pool.head; w != NULL; w = w->next)
		if (!w->reaped)
			n++;
	return (n);
}

size_t
pool_post_queue(void)
{
	return (pool.waitq.count);
}

int
pool_in_stress(void)
{
	return (pool.stress);
}

static const char *pool_state_names[] = { "starting", "idle", "sending", "busy", "retiring" };

static void
pool_count(int counts[5], int *stressed)
{
	struct worker *w;

	memset(counts, 0, 5 * sizeof(int));
	*stressed = 0;
	for (w = pool.head; w != NULL; w = w->next) {
		counts[w->state]++;
		if (w->stress && !w->reaped)
			(*stressed)++;
	}
}

void
pool_metrics_print(FILE *fp)
{
	int counts[5], stressed, i;

	pool_count(counts, &stressed);
	fprintf(fp, "# HELP doorman_pool_workers Workers by state.\n"
	    "# TYPE doorman_pool_workers gauge\n");
	for (i = 0; i < 5; i++)
		fprintf(fp, "doorman_pool_workers{state=\"%s\"} %d\n", pool_state_names[i],
		    counts[i]);
	fprintf(fp, "# HELP doorman_pool_stress_workers Workers running with -o stress=yes.\n"
	    "# TYPE doorman_pool_stress_workers gauge\ndoorman_pool_stress_workers %d\n", stressed);
	fprintf(fp, "# HELP doorman_pool_process_limit backend_process_limit.\n"
	    "# TYPE doorman_pool_process_limit gauge\ndoorman_pool_process_limit %d\n", pool.limit);
}

void
pool_status(FILE *fp)
{
	const char **names = pool_state_names;
	int counts[5], stressed, i;

	pool_count(counts, &stressed);
	fprintf(fp, "workers:");
	for (i = 0; i < 5; i++)
		fprintf(fp, " %s=%d", names[i], counts[i]);
	fprintf(fp, " limit=%d, with -o stress=yes: %d\n", pool.limit, stressed);
	fprintf(fp, "post-queue: %zu waiting\n", pool.waitq.count);
	fprintf(fp, "pool stress: %s", pool.stress ? "on" : "off");
	if (pool.stress)
		fprintf(fp, " since %.0fs", ev_now(screen.loop) - pool.stress_since);
	fprintf(fp, " (backend_stress = %s)\n", pool.mode == STRESS_ON ? "on" :
	    pool.mode == STRESS_OFF ? "off" : "adaptive");
}
