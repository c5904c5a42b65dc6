/*
 * test_smtpd_netio - the worker's I/O layer: connecting (the error
 * comes back as errno), and reads that wait first when the peer has
 * just been sent something to answer.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "backend/netio.h"

static struct netio n;

/* A loopback address with nothing listening: bind a port, then close it. */
static void
free_port(struct sockaddr_in *sin, int do_listen, int *keep)
{
	socklen_t len = sizeof(*sin);
	int	fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert(bind(fd, (struct sockaddr *)sin, sizeof(*sin)) == 0);
	cr_assert(getsockname(fd, (struct sockaddr *)sin, &len) == 0);
	if (do_listen) {
		cr_assert(listen(fd, 4) == 0);
		*keep = fd;
	} else
		close(fd);
}

Test(netio, connect_refused_sets_errno)
{
	struct sockaddr_in sin;

	free_port(&sin, 0, NULL);
	errno = 0;
	cr_assert_eq(netio_connect((struct sockaddr *)&sin, sizeof(sin), 1000), -1);
	cr_assert_eq(errno, ECONNREFUSED);
}

Test(netio, connect_gives_a_non_blocking_fd)
{
	struct sockaddr_in sin;
	int	lfd = -1, fd;

	free_port(&sin, 1, &lfd);
	fd = netio_connect((struct sockaddr *)&sin, sizeof(sin), 1000);
	cr_assert_geq(fd, 0);
	cr_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
	close(fd);
	close(lfd);
}

static void *
write_later(void *arg)
{
	int	fd = *(int *)arg;
	struct timespec ts = { 0, 50 * 1000 * 1000 };

	nanosleep(&ts, NULL);
	(void)!write(fd, "250 ok\r\n", 8);
	return (NULL);
}

static int sp[2];

static void
pair(void)
{
	cr_assert(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp) == 0);
	netio_init(&n, sp[0], NULL, 0);
}

Test(netio, wait_first_waits_for_the_answer, .init = pair)
{
	pthread_t t;
	int64_t	t0 = netio_now();

	n.wait_first = 1;
	cr_assert(pthread_create(&t, NULL, write_later, &sp[1]) == 0);
	cr_assert_eq(netio_fill(&n, netio_now() + 2000), NETIO_OK);
	pthread_join(t, NULL);
	cr_assert_eq(netio_avail(&n), 8);
	cr_assert_eq(n.wait_first, 0);
	cr_assert_geq(netio_now() - t0, 40);
}

Test(netio, wait_first_times_out, .init = pair)
{
	n.wait_first = 1;
	cr_assert_eq(netio_fill(&n, netio_now() + 30), NETIO_TIMEOUT);
	cr_assert_eq(n.wait_first, 0);
}

Test(netio, wait_first_with_input_already_there, .init = pair)
{
	cr_assert_eq(write(sp[1], "QUIT\r\n", 6), 6);
	n.wait_first = 1;
	cr_assert_eq(netio_fill(&n, netio_now() + 1000), NETIO_OK);
	cr_assert_eq(netio_avail(&n), 6);
}

Test(netio, eof_after_wait_first, .init = pair)
{
	close(sp[1]);
	n.wait_first = 1;
	cr_assert_eq(netio_fill(&n, netio_now() + 1000), NETIO_EOF);
}
