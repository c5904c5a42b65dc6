/*
 * spawner - start doorman-smtpd workers from a helper process forked
 * before the screen holds any client (see spawner.h for why).
 *
 * The spawner is a plain blocking loop: read a request, clone a child
 * with CLONE_PARENT (so that it is the screen's child), wait until the
 * child has exec'd (a close-on-exec pipe says whether the exec worked),
 * reply.  For a request that allows it, the child is forked instead by
 * a template doorman-smtpd (backend/template.h), started the same way for
 * the argument vector of the requests (a new vector, stress or not,
 * replaces it): every start after the first then costs a fork, not an
 * exec.  Whatever goes wrong with a template
 * (gone, stale config, no answer), the worker is exec'd as before.  It
 * never logs: errors go back to the screen in the reply, and a spawner
 * that dies is noticed by the screen, which then starts its workers
 * itself.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/handoff.h"
#include "backend/template.h"
#include "screen/spawner.h"

#define SPAWNER_MSG_MAX		16384	/* mode, path + argv of one request */
#define SPAWNER_ARGS_MAX	256
/*
 * One: the flavour of the workers being started now (a switch to or
 * from stress replaces it), so that ps never shows a template of the
 * flavour the pool has left.
 */
#define SPAWNER_TEMPLATES	1
#define TEMPLATE_WAIT_MS	5000	/* its start-up and one fork */

extern char **environ;

struct spawner_reply {
	int32_t	pid;
	int32_t	err;
};

static int spawner_sock = -1;		/* the screen's end */
static pid_t spawner_child;

/* In the spawner: the templates it has started, by request. */
static struct template {
	char	*key;			/* path + argv, as requested */
	size_t	keylen;
	int	sock;			/* its fd 3; -1: free slot */
	pid_t	pid;
} templates[SPAWNER_TEMPLATES] = { { NULL, 0, -1, 0 } };

/* In the new child: become the worker.  Only async-signal-safe calls. */
static void __attribute__((noreturn))
spawner_become(const char *path, char *const argv[], char *const envp[], int chan,
    int errpipe)
{
	sigset_t none;
	int err;

	if (chan == SPAWNER_CHANNEL_FD)
		(void)fcntl(chan, F_SETFD, 0);
	else if (dup2(chan, SPAWNER_CHANNEL_FD) < 0)
		goto fail;
	/* The rest close at exec; errpipe only then, which tells the spawner. */
	(void)syscall(SYS_close_range, SPAWNER_CHANNEL_FD + 1, ~0U, CLOSE_RANGE_CLOEXEC);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(path, argv, envp);
fail:
	err = errno;
	(void)write(errpipe, &err, sizeof(err));
	_exit(127);
}

/* Start one process (a worker, or a template): its pid, or -1 with *err. */
static pid_t
spawner_exec(const char *path, char *const argv[], char *const envp[], int chan,
    int *err)
{
	int	pfd[2], e;
	pid_t	pid;
	ssize_t	n;

	if (pipe2(pfd, O_CLOEXEC) < 0) {
		*err = errno;
		return (-1);
	}
	/* A fork whose child the screen, our parent, reaps. */
	pid = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, NULL, NULL, 0);
	if (pid == 0) {
		close(pfd[0]);
		spawner_become(path, argv, envp, chan, pfd[1]);
	}
	*err = pid < 0 ? errno : 0;
	close(pfd[1]);
	if (pid > 0) {
		do
			n = read(pfd[0], &e, sizeof(e));
		while (n < 0 && errno == EINTR);
		if (n == (ssize_t)sizeof(e))
			*err = e;	/* the exec failed; the child is gone */
	}
	close(pfd[0]);
	return (pid);
}

/* Split "path\0arg0\0arg1\0..." into path and argv; 0 or -1. */
static int
spawner_parse(char *buf, size_t len, char **path, char *argv[], size_t max)
{
	size_t	off = 0, argc = 0;

	if (len == 0 || buf[len - 1] != '\0')
		return (-1);
	*path = buf;
	off = strlen(buf) + 1;
	while (off < len && argc < max - 1) {
		argv[argc++] = buf + off;
		off += strlen(buf + off) + 1;
	}
	argv[argc] = NULL;
	return (argc > 0 && off == len ? 0 : -1);
}

/* Take one request with exactly one fd (else *chan = -1); 1, 0 at EOF, -1 on error. */
static int
spawner_recv(int sock, char *buf, size_t cap, size_t *len, int *chan)
{
	ssize_t	n = handoff_recv_fd(sock, buf, cap, chan);

	if (n <= 0)
		return ((int)n);
	*len = (size_t)n;
	return (1);
}

static void
template_drop(struct template *t, int kill_it)
{
	if (kill_it && t->pid > 0)
		(void)kill(t->pid, SIGKILL);
	if (t->sock >= 0)
		close(t->sock);		/* EOF: it exits */
	free(t->key);
	t->key = NULL;
	t->sock = -1;
	t->pid = 0;
}

/* The environment of a template: ours, and TEMPLATE_ENV. */
static char **
template_environ(void)
{
	static char **envp;
	static char mark[] = TEMPLATE_ENV "=1";
	size_t	n = 0;

	if (envp != NULL)
		return (envp);
	while (environ[n] != NULL)
		n++;
	if ((envp = calloc(n + 2, sizeof(*envp))) == NULL)
		return (NULL);
	memcpy(envp, environ, n * sizeof(*envp));
	envp[n] = mark;
	return (envp);
}

/* The template for this request, started if need be; NULL: none. */
static struct template *
template_get(const char *key, size_t keylen, const char *path, char *const argv[])
{
	struct template *t, *slot = NULL;
	char	**envp;
	int	ts[2], err;
	size_t	i;

	for (i = 0; i < SPAWNER_TEMPLATES; i++) {
		t = &templates[i];
		if (t->sock >= 0 && t->keylen == keylen && memcmp(t->key, key, keylen) == 0)
			return (t);
		if (t->sock < 0 && slot == NULL)
			slot = t;
	}
	if (slot == NULL) {
		/* Another argument vector (stress, or a reload): replace. */
		slot = &templates[0];
		template_drop(slot, 0);
	}
	if ((envp = template_environ()) == NULL || (slot->key = malloc(keylen)) == NULL)
		return (NULL);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ts) < 0) {
		template_drop(slot, 0);
		return (NULL);
	}
	slot->pid = spawner_exec(path, argv, envp, ts[1], &err);
	close(ts[1]);
	slot->sock = ts[0];
	if (slot->pid <= 0) {
		template_drop(slot, 0);
		return (NULL);
	}
	memcpy(slot->key, key, keylen);
	slot->keylen = keylen;
	return (slot);
}

/*
 * A worker forked by the template of this request: its pid, or -1 (the
 * caller execs it instead; a template that failed is dropped).
 */
static pid_t
template_fork(const char *key, size_t keylen, const char *path, char *const argv[],
    int chan, int *err)
{
	struct template *t = template_get(key, keylen, path, argv);
	struct template_reply rep;
	struct pollfd pfd;

	if (t == NULL)
		return (-1);
	pfd.fd = t->sock;
	pfd.events = POLLIN;
	if (handoff_send_fd(t->sock, "F", 1, chan, 0) != 1 ||
	    poll(&pfd, 1, TEMPLATE_WAIT_MS) != 1 ||
	    recv(t->sock, &rep, sizeof(rep), 0) != (ssize_t)sizeof(rep)) {
		template_drop(t, 1);	/* gone, or stuck: never wait on it again */
		return (-1);
	}
	if (rep.pid <= 0) {
		/* ESTALE: the config changed, it has left; anything else: odd. */
		template_drop(t, rep.err != ESTALE);
		return (-1);
	}
	*err = 0;
	return ((pid_t)rep.pid);
}

static void __attribute__((noreturn))
spawner_main(int sock)
{
	static char buf[SPAWNER_MSG_MAX];
	char	*path, *argv[SPAWNER_ARGS_MAX];
	struct spawner_reply rep;
	sigset_t none;
	size_t	len = 0;
	int	chan = -1, err;

	/* Keep 0-2 and our socket (as fd 3); nothing of the screen's. */
	if (sock != SPAWNER_CHANNEL_FD) {
		if (dup2(sock, SPAWNER_CHANNEL_FD) < 0)
			_exit(1);
		sock = SPAWNER_CHANNEL_FD;
	}
	(void)syscall(SYS_close_range, SPAWNER_CHANNEL_FD + 1, ~0U, 0);
	(void)prctl(PR_SET_NAME, "doorman-spawn", 0, 0, 0);
	/* Hang-ups and ^C are the screen's business; SIGTERM ends us. */
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	for (;;) {
		switch (spawner_recv(sock, buf, sizeof(buf), &len, &chan)) {
		case 0:
			_exit(0);	/* the screen closed us */
		case -1:
			_exit(1);
		}
		rep.pid = 0;
		rep.err = EINVAL;
		if (chan >= 0 && len > 1 && (buf[0] == 'E' || buf[0] == 'T') &&
		    spawner_parse(buf + 1, len - 1, &path, argv, SPAWNER_ARGS_MAX) == 0) {
			pid_t	pid = -1;

			if (buf[0] == 'T')
				pid = template_fork(buf + 1, len - 1, path, argv, chan, &err);
			if (pid <= 0)
				pid = spawner_exec(path, argv, environ, chan, &err);
			rep.pid = pid > 0 ? (int32_t)pid : 0;
			rep.err = err;
		}
		if (chan >= 0)
			close(chan);
		if (send(sock, &rep, sizeof(rep), 0) < 0)
			_exit(1);
	}
}

int
spawner_start(void)
{
	int	sv[2];
	pid_t	pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return (-1);
	if ((pid = fork()) < 0) {
		close(sv[0]);
		close(sv[1]);
		return (-1);
	}
	if (pid == 0) {
		close(sv[0]);
		spawner_main(sv[1]);
	}
	close(sv[1]);
	(void)fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
	spawner_sock = sv[0];
	spawner_child = pid;
	return (0);
}

int
spawner_fd(void)
{
	return (spawner_sock);
}

pid_t
spawner_pid(void)
{
	return (spawner_child);
}

/* Add str and its NUL to buf; 0, or -1 (E2BIG) when it does not fit. */
static int
spawner_append(char *buf, size_t cap, size_t *len, const char *str)
{
	size_t	n = strlen(str) + 1;

	if (*len + n > cap) {
		errno = E2BIG;
		return (-1);
	}
	memcpy(buf + *len, str, n);
	*len += n;
	return (0);
}

int
spawner_request(const char *path, const char *const *argv, int chan, int flags)
{
	char	buf[SPAWNER_MSG_MAX];
	size_t	len = 0, i;

	if (spawner_sock < 0) {
		errno = ENOTCONN;
		return (-1);
	}
	buf[len++] = (flags & SPAWNER_TEMPLATE) ? 'T' : 'E';
	if (spawner_append(buf, sizeof(buf), &len, path) != 0)
		return (-1);
	for (i = 0; argv[i] != NULL; i++)
		if (i + 1 >= SPAWNER_ARGS_MAX ||
		    spawner_append(buf, sizeof(buf), &len, argv[i]) != 0) {
			errno = E2BIG;
			return (-1);
		}
	return (handoff_send_fd(spawner_sock, buf, len, chan, MSG_DONTWAIT) < 0 ? -1 : 0);
}

int
spawner_reply(pid_t *pid, int *err)
{
	struct spawner_reply rep;
	ssize_t	n;

	if (spawner_sock < 0)
		return (0);
	do
		n = recv(spawner_sock, &rep, sizeof(rep), MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return (-1);
	if (n != (ssize_t)sizeof(rep))
		return (0);		/* EOF, or not our spawner's voice */
	*pid = rep.pid > 0 ? (pid_t)rep.pid : 0;
	*err = rep.err;
	return (1);
}

void
spawner_stop(void)
{
	if (spawner_sock >= 0) {
		close(spawner_sock);
		spawner_sock = -1;
	}
}
