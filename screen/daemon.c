/*
 * daemon - `doorman run`.
 *
 * Start-up order: raise the open-file limit (a front end must hold
 * thousands), open the log, bind the listeners, then the loop.  SIGHUP
 * re-reads the config and tables without touching held connections or
 * busy workers; SIGTERM stops accepting and lets sessions finish for at
 * most DRAIN_LIMIT seconds.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ev.h>

#include "cache/cache.h"
#include "conf/log.h"
#include "rbl/rbl.h"
#include "screen/access.h"
#include "screen/config_load.h"
#include "screen/control.h"
#include "screen/daemon.h"
#include "screen/listener.h"
#include "screen/pool.h"
#include "screen/screen.h"
#include "screen/session.h"
#include "screen/spawner.h"

#define DRAIN_LIMIT	30.0	/* seconds a SIGTERM drain may take */
#define CTL_PATH_MAX	107	/* sun_path less its NUL */

struct screen screen;

static ev_signal sig_term, sig_int, sig_hup;
static ev_prepare log_pause;	/* writes the lines of a loop pass */
static ev_timer retired_timer;
/* What a reload replaced, kept until the lookups that use it are over. */
static struct rbl *retired_rbl;
static struct conf *retired_conf[2];

static void
daemon_free_retired_now(void)
{
	rbl_free(retired_rbl);
	retired_rbl = NULL;
	if (retired_conf[0] != NULL)
		conf_free(retired_conf[0]);
	if (retired_conf[1] != NULL)
		conf_free(retired_conf[1]);
	retired_conf[0] = retired_conf[1] = NULL;
}

static void
daemon_free_retired(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)revents;
	if (!rbl_idle(retired_rbl))
		return;
	daemon_free_retired_now();
	ev_timer_stop(loop, t);
}
static ev_timer drain_timer;
static int draining;
static long daemon_nofile;		/* the open-file limit after raising it */

int
screen_in_stress(void)
{
	return (screen.stress || pool_in_stress());
}

struct conf *
screen_conf_in_force(void)
{
	return (screen_in_stress() ? screen.conf_stress : screen.conf);
}

/* Raise the soft open-file limit to the hard one; returns the soft limit. */
static long
daemon_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return (1024);
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	return ((long)rl.rlim_cur);
}

static void
daemon_timers_init(void)
{
	timerlist_init(&screen.greet_wait[0], screen.loop,
	    conf_time(screen.conf, "screen_greet_wait"));
	timerlist_init(&screen.greet_wait[1], screen.loop,
	    conf_time(screen.conf_stress, "screen_greet_wait"));
	timerlist_init(&screen.command_time[0], screen.loop,
	    conf_time(screen.conf, "screen_command_time_limit"));
	timerlist_init(&screen.command_time[1], screen.loop,
	    conf_time(screen.conf_stress, "screen_command_time_limit"));
	timerlist_init(&screen.first_command[0], screen.loop,
	    conf_time(screen.conf, "smtpd_timeout"));
	timerlist_init(&screen.first_command[1], screen.loop,
	    conf_time(screen.conf_stress, "smtpd_timeout"));
}

/*
 * The lines of one loop pass leave in one write, before the loop
 * sleeps; a client's lines also leave before its hand-off (pool.c).
 */
static void
daemon_log_flush(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	log_flush();
}

static int
daemon_load(struct conf **normal, struct conf **stressed, struct access_list **al,
    struct screen_params *p, struct conf_err *err)
{
	*normal = config_load(screen.config_dir, screen.overrides, "", 0, err);
	if (*normal == NULL)
		return (-1);
	*stressed = config_load(screen.config_dir, screen.overrides, "yes", 1, err);
	if (*stressed == NULL || config_screen_params(p, *normal, err) != 0 ||
	    config_open_tables(*normal, err) != 0 || config_open_tables(*stressed, err) != 0 ||
	    (*al = access_list_create(*normal, err)) == NULL) {
		conf_free(*normal);
		if (*stressed != NULL)
			conf_free(*stressed);
		return (-1);
	}
	return (0);
}

static void
daemon_pre_queue_limit(long nofile)
{
	/* Each worker costs the screen one descriptor; keep a few for files. */
	long reserve = conf_int(screen.conf, "backend_process_limit") + 32;
	long most = nofile > reserve ? nofile - reserve : 1;

	if (screen.p.pre_queue_limit <= 0)
		screen.p.pre_queue_limit = nofile * 9 / 10;
	if (screen.p.pre_queue_limit > most) {
		msg_warn("screen_pre_queue_limit %ld is more than the open file limit %ld allows: "
		    "using %ld", screen.p.pre_queue_limit, nofile, most);
		screen.p.pre_queue_limit = most;
	}
}

/*
 * SIGHUP: new config and tables for new connections.  The old conf
 * objects and DNSBL sites stay until the lookups in flight are over.
 */
static void
daemon_reload(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct conf *normal, *stressed;
	struct access_list *al;
	struct screen_params p;
	struct rbl *rbl;
	struct conf_err err;
	char buf[1024];

	(void)loop;
	(void)w;
	(void)revents;
	memset(&err, 0, sizeof(err));
	if (retired_rbl != NULL) {
		msg_warn("reload: the previous reload is still finishing its DNS lookups: "
		    "try again in a few seconds");
		return;
	}
	if (daemon_load(&normal, &stressed, &al, &p, &err) != 0) {
		msg_warn("reload: %s: keeping the old configuration",
		    conf_err_format(&err, buf, sizeof(buf)));
		return;
	}
	if ((rbl = rbl_create(screen.loop, normal, &err)) == NULL ||
	    rbl_prepare_conf(rbl, stressed, &err) != 0) {
		msg_warn("reload: %s: keeping the old configuration",
		    conf_err_format(&err, buf, sizeof(buf)));
		rbl_free(rbl);
		access_list_free(al);
		conf_free(normal);
		conf_free(stressed);
		return;
	}
	/* Sessions in flight keep their lookups in the old rbl until done. */
	retired_rbl = screen.rbl;
	screen.rbl = rbl;
	ev_timer_init(&retired_timer, daemon_free_retired, 1.0, 1.0);
	ev_timer_start(screen.loop, &retired_timer);
	cache_set_enabled(screen.cache, p.enabled_tests);
	access_list_free(screen.access);
	screen.access = al;
	retired_conf[0] = screen.conf;
	retired_conf[1] = screen.conf_stress;
	screen.conf = normal;
	screen.conf_stress = stressed;
	screen.p = p;
	daemon_pre_queue_limit(daemon_nofile);
	/*
	 * New waits apply to sessions that start from now on.  If a wait
	 * got shorter, those may queue behind older, later deadlines and
	 * fire up to the difference late: never early.
	 */
	screen.greet_wait[0].interval = conf_time(normal, "screen_greet_wait");
	screen.greet_wait[1].interval = conf_time(stressed, "screen_greet_wait");
	screen.command_time[0].interval = conf_time(normal, "screen_command_time_limit");
	screen.command_time[1].interval = conf_time(stressed, "screen_command_time_limit");
	screen.first_command[0].interval = conf_time(normal, "smtpd_timeout");
	screen.first_command[1].interval = conf_time(stressed, "smtpd_timeout");
	pool_configure(normal);
	msg_info("reload: configuration %s/doorman.cf", screen.config_dir);
}

/*
 * Close every session that the dummy engine holds, and every greeted
 * one still waiting for its first command: nothing there is mail yet.
 */
static void
daemon_close_idle_sessions(void)
{
	struct timerlist *lists[] = { &screen.command_time[0], &screen.command_time[1],
	    &screen.first_command[0], &screen.first_command[1] };
	struct timer_entry *te;
	size_t i;

	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		while ((te = lists[i]->head) != NULL) {
			struct session *s = session_of_timer(te);

			(void)session_send(s, "421 4.3.2 Service shutting down\r\n");
			session_close(s, 1);
		}
	}
}

/*
 * The drain: clients in their greet wait finish it and are handed off
 * as usual; once the screen holds nobody, the workers are told to exit
 * after their sessions; the loop ends when they are gone, or at the
 * bound.
 */
static void
daemon_drain_check(struct ev_loop *loop, ev_timer *t, int revents)
{
	static int pool_closed;

	(void)revents;
	if (screen.held == 0 && !pool_closed) {
		pool_shutdown();
		pool_closed = 1;
	}
	if ((pool_closed && pool_active() == 0) ||
	    ev_now(loop) - screen.started >= DRAIN_LIMIT) {
		ev_timer_stop(loop, t);
		ev_break(loop, EVBREAK_ALL);
	}
}

static void
daemon_terminate(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	if (draining) {
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	draining = 1;
	msg_info("terminating on signal %d", w->signum);
	listeners_close();
	daemon_close_idle_sessions();
	/* Reuse started as the drain's start time. */
	screen.started = ev_now(loop);
	ev_timer_init(&drain_timer, daemon_drain_check, 0.1, 0.1);
	ev_timer_start(loop, &drain_timer);
}

static int
daemon_data_directory(struct conf_err *err)
{
	const char *dir = conf_str(screen.conf, "data_directory");
	const char *file;
	int line;

	conf_origin(screen.conf, "data_directory", &file, &line);
	if (strlen(dir) + strlen("/doorman.ctl") > CTL_PATH_MAX) {
		snprintf(err->file, sizeof(err->file), "%s", file);
		err->line = line;
		snprintf(err->reason, sizeof(err->reason),
		    "data_directory \"%.300s\" is too long: %s/doorman.ctl must fit in %d bytes "
		    "(a unix socket path)", dir, "$data_directory", CTL_PATH_MAX);
		return (-1);
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err->file, sizeof(err->file), "%s", file);
		err->line = line;
		snprintf(err->reason, sizeof(err->reason),
		    "cannot create data_directory %.300s: %s", dir, strerror(errno));
		return (-1);
	}
	return (0);
}

int
daemon_run(void)
{
	struct conf_err err;
	char tag[256];
	long nofile;
	int spawner_err;

	memset(&err, 0, sizeof(err));
	/*
	 * The worker spawner first, before anything is opened or allocated:
	 * it inherits none of it (no cache, no listeners, no event loop).
	 */
	spawner_err = spawner_start() == 0 ? 0 : errno;
	nofile = daemon_nofile = daemon_raise_nofile();
	screen.loop = ev_default_loop(EVFLAG_SIGNALFD);
	if (daemon_load(&screen.conf, &screen.conf_stress, &screen.access, &screen.p,
	    &err) != 0 || daemon_data_directory(&err) != 0) {
		config_print_error(&err);
		return (1);
	}
	snprintf(tag, sizeof(tag), "%s/postscreen", conf_str(screen.conf, "syslog_name"));
	if (log_open(tag, conf_str(screen.conf, "maillog_file")) != 0) {
		fprintf(stderr, "doorman: fatal: cannot open maillog_file %s: %s\n",
		    conf_str(screen.conf, "maillog_file"), strerror(errno));
		return (1);
	}
	daemon_pre_queue_limit(nofile);
	if ((screen.rbl = rbl_create(screen.loop, screen.conf, &err)) == NULL ||
	    rbl_prepare_conf(screen.rbl, screen.conf_stress, &err) != 0) {
		config_print_error(&err);
		return (1);
	}
	screen.cache = cache_open(screen.loop, screen.conf, &err);
	if (screen.cache == NULL && err.reason[0] != '\0') {
		config_print_error(&err);
		return (1);
	}
	if (listeners_open(screen.conf, &err) != 0) {
		config_print_error(&err);
		msg_warn("%s", err.reason);
		return (1);
	}
	if (control_open(screen.conf, &err) != 0) {
		config_print_error(&err);
		return (1);
	}
	signal(SIGPIPE, SIG_IGN);
	screen.started = ev_now(screen.loop);
	daemon_timers_init();
	pool_init(spawner_err);
	msg_info("daemon started -- open file limit %ld: up to %ld clients can be held",
	    nofile, screen.p.pre_queue_limit);

	ev_signal_init(&sig_term, daemon_terminate, SIGTERM);
	ev_signal_init(&sig_int, daemon_terminate, SIGINT);
	ev_signal_init(&sig_hup, daemon_reload, SIGHUP);
	ev_signal_start(screen.loop, &sig_term);
	ev_signal_start(screen.loop, &sig_int);
	ev_signal_start(screen.loop, &sig_hup);
	ev_prepare_init(&log_pause, daemon_log_flush);
	ev_prepare_start(screen.loop, &log_pause);
	log_buffer(1);
	listeners_start();
	ev_run(screen.loop, 0);
	control_close();
	cache_close(screen.cache);
	rbl_free(screen.rbl);
	daemon_free_retired_now();
	access_list_free(screen.access);
	conf_free(screen.conf);
	conf_free(screen.conf_stress);
	msg_info("daemon stopped");
	return (0);
}
