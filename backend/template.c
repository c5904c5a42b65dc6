/*
 * template - fork workers from a doorman-smtpd that has its config
 * loaded (see template.h).  A plain blocking loop, like the spawner that
 * talks to it; it never logs (errors go back in the reply).
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/handoff.h"
#include "backend/template.h"
#include "conf/log.h"

/* Same file, same contents as when we read it (as far as stat can tell). */
static int
template_fresh(const char *file, const struct stat *was)
{
	struct stat now;

	if (stat(file, &now) != 0)
		return (0);
	return (now.st_ino == was->st_ino && now.st_dev == was->st_dev &&
	    now.st_size == was->st_size &&
	    now.st_mtim.tv_sec == was->st_mtim.tv_sec &&
	    now.st_mtim.tv_nsec == was->st_mtim.tv_nsec &&
	    now.st_ctim.tv_sec == was->st_ctim.tv_sec &&
	    now.st_ctim.tv_nsec == was->st_ctim.tv_nsec);
}

#define WORKER_NAME	"doorman-smtpd"
#define TEMPLATE_NAME	"doorman-templ"
_Static_assert(sizeof(TEMPLATE_NAME) == sizeof(WORKER_NAME),
    "argv[0] is rewritten in place: the names must be as long");

void
template_run(int sock, const char *config_file, char *argv0)
{
	struct template_reply rep;
	struct stat loaded;
	int	chan = -1, renamed = 0;
	char	byte;
	ssize_t	n;
	pid_t	pid;

	/*
	 * What we have read is what stat says now, less a change made
	 * between the read and this call: the caller read it just before.
	 */
	if (stat(config_file, &loaded) != 0)
		_exit(1);
	/* Our argv is a worker's: tell us apart in ps. */
	if (strcmp(argv0, WORKER_NAME) == 0) {
		memcpy(argv0, TEMPLATE_NAME, sizeof(TEMPLATE_NAME) - 1);
		renamed = 1;
	}
	(void)prctl(PR_SET_NAME, TEMPLATE_NAME, 0, 0, 0);
	for (;;) {
		if ((n = handoff_recv_fd(sock, &byte, 1, &chan)) <= 0)
			_exit(n == 0 ? 0 : 1);
		rep.pid = 0;
		rep.err = 0;
		if (chan < 0)
			rep.err = EBADMSG;
		else if (!template_fresh(config_file, &loaded))
			rep.err = ESTALE;
		if (rep.err == 0) {
			log_flush();
			/* A fork whose child the screen, our parent, reaps. */
			pid = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0,
			    NULL, NULL, 0);
			if (pid == 0) {
				/* The worker: its channel where ours was. */
				if (dup2(chan, sock) < 0)
					_exit(1);
				close(chan);
				unsetenv(TEMPLATE_ENV);
				if (renamed)
					memcpy(argv0, WORKER_NAME, sizeof(WORKER_NAME) - 1);
				(void)prctl(PR_SET_NAME, WORKER_NAME, 0, 0, 0);
				log_forked();
				return;
			}
			if (pid < 0)
				rep.err = errno;
			else
				rep.pid = (int32_t)pid;
		}
		if (chan >= 0)
			close(chan);
		if (send(sock, &rep, sizeof(rep), MSG_NOSIGNAL) < 0)
			_exit(1);
		if (rep.err == ESTALE)
			_exit(0);
	}
}
