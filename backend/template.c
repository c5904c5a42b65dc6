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

#include "backend/template.h"
#include "conf/log.h"

/* The new worker's channel: exactly one fd, or -1.  1, 0 at EOF, -1. */
static int
template_recv(int sock, int *chan)
{
	union {
		struct cmsghdr hdr;
		char	space[CMSG_SPACE(sizeof(int) * 2)];
	} u;
	struct msghdr msg;
	struct cmsghdr *c;
	struct iovec iov;
	char	byte;
	ssize_t	n;
	int	fds = 0, fd;
	size_t	i, k;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = &byte;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.space;
	msg.msg_controllen = sizeof(u.space);
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return ((int)n);
	*chan = -1;
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < k; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (fds++ == 0)
				*chan = fd;
			else
				close(fd);
		}
	}
	if (fds != 1 && *chan >= 0) {
		close(*chan);
		*chan = -1;
	}
	return (1);
}

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
	int	chan = -1, rc, renamed = 0;
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
		if ((rc = template_recv(sock, &chan)) <= 0)
			_exit(rc == 0 ? 0 : 1);
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
