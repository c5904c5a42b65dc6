/*
 * test_screen_spawner - the helper that starts workers: the child is
 * ours (CLONE_PARENT: waitpid here sees its status), its channel is fd 3,
 * a failed exec comes back as an errno, the spawner leaves when we
 * close its socket, and a request that may use a template still gets
 * its worker when the template fails.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "screen/spawner.h"

/* Wait (bounded) for the spawner's reply to our last request. */
static int
reply(pid_t *pid, int *err)
{
	struct pollfd pfd = { .fd = spawner_fd(), .events = POLLIN };

	cr_assert_eq(poll(&pfd, 1, 5000), 1, "no reply from the spawner");
	return (spawner_reply(pid, err));
}

static pid_t
spawn(const char *path, const char *const *argv, int chan, int *err)
{
	pid_t	pid = -1;

	cr_assert_eq(spawner_request(path, argv, chan, 0), 0, "request: %s", strerror(errno));
	cr_assert_eq(reply(&pid, err), 1);
	return (pid);
}

static int
pair(int sv[2])
{
	return (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv));
}

/*
 * Start the spawner and have it run "sh -c script" with a channel as fd
 * 3; what the script writes there lands in out.  The child's pid.
 */
static pid_t
run_script(const char *script, char *out, size_t cap, ssize_t *n)
{
	const char *argv[] = { "sh", "-c", script, NULL };
	int	sv[2], err = -1;
	pid_t	pid;

	cr_assert_eq(spawner_start(), 0);
	cr_assert_eq(pair(sv), 0);
	pid = spawn("/bin/sh", argv, sv[1], &err);
	close(sv[1]);
	cr_assert_gt(pid, 0);
	cr_assert_eq(err, 0);
	*n = recv(sv[0], out, cap, 0);
	close(sv[0]);
	return (pid);
}

Test(spawner, child_is_ours_and_gets_its_channel_as_fd_3)
{
	char	buf[8];
	int	st;
	ssize_t	n;
	pid_t	pid = run_script("printf hi >&3; exit 3", buf, sizeof(buf), &n);

	cr_assert_eq(n, 2);
	cr_assert_eq(memcmp(buf, "hi", 2), 0);
	/* Our child, not the spawner's: we reap it and see its status. */
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 3);
	spawner_stop();
}

Test(spawner, only_fds_0_to_3_reach_the_child)
{
	char	buf[256];
	int	st;
	ssize_t	n;
	pid_t	pid = run_script("ls /proc/self/fd >&3", buf, sizeof(buf) - 1, &n);

	cr_assert_gt(n, 0);
	buf[n] = '\0';
	/* 0-3, and the one ls opens for /proc/self/fd. */
	cr_assert_str_eq(buf, "0\n1\n2\n3\n4\n", "fds: %s", buf);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	spawner_stop();
}

Test(spawner, failed_exec_is_an_errno)
{
	const char *argv[] = { "nothing", NULL };
	int	sv[2], err = 0, st;
	pid_t	pid;

	cr_assert_eq(spawner_start(), 0);
	cr_assert_eq(pair(sv), 0);
	pid = spawn("/nonexistent/doorman-smtpd", argv, sv[1], &err);
	close(sv[1]);
	close(sv[0]);
	cr_assert_eq(err, ENOENT);
	/* The child that could not exec is ours to reap too. */
	cr_assert_gt(pid, 0);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 127);
	spawner_stop();
}

Test(spawner, leaves_when_its_socket_closes)
{
	pid_t	sp;
	int	st;

	cr_assert_eq(spawner_start(), 0);
	sp = spawner_pid();
	cr_assert_gt(sp, 0);
	spawner_stop();
	cr_assert_eq(spawner_fd(), -1);
	cr_assert_eq(waitpid(sp, &st, 0), sp);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	spawner_stop();		/* twice is harmless */
}

Test(spawner, request_without_spawner_fails)
{
	const char *argv[] = { "x", NULL };

	cr_assert_eq(spawner_request("/bin/true", argv, 0, 0), -1);
	cr_assert_eq(errno, ENOTCONN);
}

Test(spawner, oversized_request_is_refused_here)
{
	static char big[20000];
	const char *argv[] = { "x", big, NULL };

	memset(big, 'a', sizeof(big) - 1);
	cr_assert_eq(spawner_start(), 0);
	cr_assert_eq(spawner_request("/bin/true", argv, 0, 0), -1);
	cr_assert_eq(errno, E2BIG);
	spawner_stop();
}

/*
 * A template that is not one (it exits at once): the worker is exec'd
 * all the same, and it is ours.
 */
Test(spawner, failed_template_falls_back_to_exec)
{
	const char *argv[] = { "sh", "-c",
	    "[ -n \"$DOORMAN_SMTPD_TEMPLATE\" ] && exit 0; printf hi >&3; exit 3", NULL };
	char	buf[8];
	int	sv[2], err = -1, st;
	pid_t	pid = -1;
	ssize_t	n;

	cr_assert_eq(spawner_start(), 0);
	cr_assert_eq(pair(sv), 0);
	cr_assert_eq(spawner_request("/bin/sh", argv, sv[1], SPAWNER_TEMPLATE), 0);
	close(sv[1]);
	cr_assert_eq(reply(&pid, &err), 1);
	cr_assert_gt(pid, 0);
	cr_assert_eq(err, 0);
	n = recv(sv[0], buf, sizeof(buf), 0);
	close(sv[0]);
	cr_assert_eq(n, 2);
	cr_assert_eq(memcmp(buf, "hi", 2), 0);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 3);
	spawner_stop();
}
