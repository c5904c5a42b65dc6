/*
 * test_handoff - the hand-off record codec and the SCM_RIGHTS passing
 * over a real SOCK_SEQPACKET socketpair: round trips, every truncation,
 * oversized and forged records, stray and missing fds.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "backend/handoff.h"

static void
set_v4(struct sockaddr_storage *ss, const char *ip, int port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	cr_assert_eq(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
}

static void
set_v6(struct sockaddr_storage *ss, const char *ip, int port)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	cr_assert_eq(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
}

static void
sample(struct handoff *h, int v6)
{
	memset(h, 0, sizeof(*h));
	if (v6) {
		set_v6(&h->client, "2001:db8::10", 56324);
		set_v6(&h->server, "2001:db8::1", 25);
		strcpy(h->listener, "[2001:db8::1]:25");
	} else {
		set_v4(&h->client, "192.0.2.10", 56324);
		set_v4(&h->server, "198.51.100.1", 25);
		strcpy(h->listener, "198.51.100.1:25");
	}
	h->flags = HANDOFF_F_TEASER_SENT | HANDOFF_F_PASS_NEW;
	h->dnsbl_score = -3;
	strcpy(h->ehlo, "client.example");
	memcpy(h->pending, "MAIL FROM:<a@b>\r\n", 17);
	h->pending_len = 17;
}

static void
assert_same(const struct handoff *a, const struct handoff *b)
{
	cr_assert_eq(a->client.ss_family, b->client.ss_family);
	if (a->client.ss_family == AF_INET) {
		cr_assert_eq(memcmp(&((struct sockaddr_in *)&a->client)->sin_addr,
		    &((struct sockaddr_in *)&b->client)->sin_addr, 4), 0);
		cr_assert_eq(((struct sockaddr_in *)&a->client)->sin_port,
		    ((struct sockaddr_in *)&b->client)->sin_port);
		cr_assert_eq(((struct sockaddr_in *)&a->server)->sin_port,
		    ((struct sockaddr_in *)&b->server)->sin_port);
	} else {
		cr_assert_eq(memcmp(&((struct sockaddr_in6 *)&a->client)->sin6_addr,
		    &((struct sockaddr_in6 *)&b->client)->sin6_addr, 16), 0);
		cr_assert_eq(((struct sockaddr_in6 *)&a->client)->sin6_port,
		    ((struct sockaddr_in6 *)&b->client)->sin6_port);
		cr_assert_eq(memcmp(&((struct sockaddr_in6 *)&a->server)->sin6_addr,
		    &((struct sockaddr_in6 *)&b->server)->sin6_addr, 16), 0);
	}
	cr_assert_str_eq(a->listener, b->listener);
	cr_assert_str_eq(a->ehlo, b->ehlo);
	cr_assert_eq(a->flags, b->flags);
	cr_assert_eq(a->dnsbl_score, b->dnsbl_score);
	cr_assert_eq(a->pending_len, b->pending_len);
	cr_assert_eq(memcmp(a->pending, b->pending, a->pending_len), 0);
}

Test(codec, round_trip_ipv4)
{
	struct handoff a, b;
	uint8_t	buf[HANDOFF_MSG_MAX];
	ssize_t	n;
	const char *why = NULL;

	sample(&a, 0);
	n = handoff_encode(&a, buf, sizeof(buf));
	cr_assert_gt(n, 0);
	cr_assert_eq(handoff_decode(buf, n, &b, &why), 0, "why: %s", why);
	assert_same(&a, &b);
	/* Explicit layout: magic first, big-endian. */
	cr_assert_eq(buf[0], 'D');
	cr_assert_eq(buf[1], 'M');
	cr_assert_eq(buf[2], 'H');
	cr_assert_eq(buf[3], '1');
}

Test(codec, round_trip_ipv6_full_pending)
{
	struct handoff a, b;
	uint8_t	buf[HANDOFF_MSG_MAX];
	ssize_t	n;
	const char *why = NULL;
	int	i;

	sample(&a, 1);
	for (i = 0; i < HANDOFF_PENDING_MAX; i++)
		a.pending[i] = (uint8_t)i;	/* NULs and all */
	a.pending_len = HANDOFF_PENDING_MAX;
	memset(a.ehlo, 'e', HANDOFF_EHLO_MAX);
	a.ehlo[HANDOFF_EHLO_MAX] = 0;
	memset(a.listener, 'l', HANDOFF_LISTENER_MAX);
	a.listener[HANDOFF_LISTENER_MAX] = 0;
	n = handoff_encode(&a, buf, sizeof(buf));
	cr_assert_gt(n, 0);
	cr_assert_eq(handoff_decode(buf, n, &b, &why), 0, "why: %s", why);
	assert_same(&a, &b);
}

Test(codec, empty_fields)
{
	struct handoff a, b;
	uint8_t	buf[HANDOFF_MSG_MAX];
	ssize_t	n;
	const char *why = NULL;

	sample(&a, 0);
	a.ehlo[0] = 0;
	a.listener[0] = 0;
	a.pending_len = 0;
	n = handoff_encode(&a, buf, sizeof(buf));
	cr_assert_gt(n, 0);
	cr_assert_eq(handoff_decode(buf, n, &b, &why), 0, "why: %s", why);
	assert_same(&a, &b);
}

Test(codec, encode_refuses)
{
	struct handoff a;
	uint8_t	buf[HANDOFF_MSG_MAX];

	sample(&a, 0);
	cr_assert_eq(handoff_encode(&a, buf, 10), -1);
	a.pending_len = HANDOFF_PENDING_MAX + 1;
	cr_assert_eq(handoff_encode(&a, buf, sizeof(buf)), -1);
	sample(&a, 0);
	a.client.ss_family = AF_UNIX;
	cr_assert_eq(handoff_encode(&a, buf, sizeof(buf)), -1);
	sample(&a, 0);
	memset(a.ehlo, 'x', sizeof(a.ehlo));	/* no NUL */
	cr_assert_eq(handoff_encode(&a, buf, sizeof(buf)), -1);
}

Test(codec, truncated_at_every_length)
{
	struct handoff a, b;
	uint8_t	buf[HANDOFF_MSG_MAX];
	ssize_t	n, i;
	const char *why;

	sample(&a, 1);
	n = handoff_encode(&a, buf, sizeof(buf));
	cr_assert_gt(n, 0);
	for (i = 0; i < n; i++) {
		why = NULL;
		cr_assert_eq(handoff_decode(buf, i, &b, &why), -1,
		    "length %zd accepted", i);
		cr_assert_not_null(why);
	}
}

Test(codec, oversized)
{
	struct handoff a, b;
	uint8_t	buf[HANDOFF_MSG_MAX + 8];
	ssize_t	n;
	const char *why = NULL;

	sample(&a, 0);
	n = handoff_encode(&a, buf, sizeof(buf));
	buf[n] = 0;
	cr_assert_eq(handoff_decode(buf, n + 1, &b, &why), -1);
	cr_assert_str_eq(why, "oversized record");
	memset(buf, 0, sizeof(buf));
	cr_assert_eq(handoff_decode(buf, HANDOFF_MSG_MAX + 1, &b, &why), -1);
	cr_assert_str_eq(why, "oversized record");
}

/* Offset of the pending length field in sample(&a, 0) records. */
static size_t
pending_off(const struct handoff *h)
{
	return (4 + 2 + 4 + 4 + 2 * 23 + 1 + strlen(h->listener) + 1 +
	    1 + strlen(h->ehlo) + 1);
}

Test(codec, forged_fields)
{
	struct handoff a, b;
	uint8_t	buf[HANDOFF_MSG_MAX], copy[HANDOFF_MSG_MAX];
	ssize_t	n;
	size_t	off, lo;
	const char *why;

	sample(&a, 0);
	n = handoff_encode(&a, buf, sizeof(buf));

	memcpy(copy, buf, n);
	copy[0] ^= 1;
	cr_assert_eq(handoff_decode(copy, n, &b, &why), -1);
	cr_assert_str_eq(why, "bad record magic");

	memcpy(copy, buf, n);
	copy[5] = 2;
	cr_assert_eq(handoff_decode(copy, n, &b, &why), -1);
	cr_assert_str_eq(why, "unsupported record version");

	memcpy(copy, buf, n);
	copy[14] = 5;		/* client family */
	cr_assert_eq(handoff_decode(copy, n, &b, &why), -1);
	cr_assert_str_eq(why, "bad address family");

	memcpy(copy, buf, n);
	copy[14 + 23] = 0;	/* server family */
	cr_assert_eq(handoff_decode(copy, n, &b, &why), -1);
	cr_assert_str_eq(why, "bad address family");

	memcpy(copy, buf, n);
	copy[14 + 1 + 6] = 1;	/* IPv4 padding */
	cr_assert_eq(handoff_decode(copy, n, &b, &why), -1);

	lo = 14 + 46;		/* listener length byte */
	memcpy(copy, buf, n);
	copy[lo] = HANDOFF_LISTENER_MAX + 1;
	cr_assert_eq(handoff_decode(copy, n, &b, &why), -1);

	memcpy(copy, buf, n);
	copy[lo + 1 + strlen(a.listener)] = 'x';	/* its NUL */
	cr_assert_eq(handoff_decode(copy, n, &b, &why), -1);
	cr_assert_str_eq(why, "string field not NUL-terminated");

	memcpy(copy, buf, n);
	copy[lo + 3] = 0;	/* NUL inside */
	cr_assert_eq(handoff_decode(copy, n, &b, &why), -1);

	off = pending_off(&a);
	memcpy(copy, buf, n);
	copy[off] = (HANDOFF_PENDING_MAX + 1) >> 8;
	copy[off + 1] = (HANDOFF_PENDING_MAX + 1) & 0xff;
	cr_assert_eq(handoff_decode(copy, n, &b, &why), -1);
	cr_assert_str_eq(why, "pending data too long");

	memcpy(copy, buf, n);
	copy[off + 1] += 1;	/* claims one more byte than present */
	cr_assert_eq(handoff_decode(copy, n, &b, &why), -1);
	cr_assert_str_eq(why, "truncated record");

	memcpy(copy, buf, n);
	copy[off + 1] -= 1;	/* one byte left over */
	cr_assert_eq(handoff_decode(copy, n, &b, &why), -1);
	cr_assert_str_eq(why, "oversized record");
}

/* Count the open fds of this process. */
static int
count_fds(void)
{
	DIR	*d = opendir("/proc/self/fd");
	struct dirent *e;
	int	n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return (n - 1);		/* the DIR's own fd */
}

static void
pair(int sv[2])
{
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
}

Test(passing, fd_arrives)
{
	int	sv[2], p[2], fd = -1;
	struct handoff a, b;
	const char *why = NULL;
	char	c = 0;

	pair(sv);
	cr_assert_eq(pipe(p), 0);
	sample(&a, 1);
	cr_assert_eq(handoff_send(sv[0], &a, p[0]), 0);
	close(p[0]);
	cr_assert_eq(handoff_recv(sv[1], &b, &fd, &why), 1, "why %s", why);
	assert_same(&a, &b);
	cr_assert_geq(fd, 0);
	cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	cr_assert_eq(write(p[1], "x", 1), 1);
	cr_assert_eq(read(fd, &c, 1), 1);
	cr_assert_eq(c, 'x');
	close(fd);
	close(p[1]);

	/* Nothing more queued; then EOF. */
	cr_assert_eq(handoff_recv(sv[1], &b, &fd, &why), -1);
	cr_assert_eq(errno, EAGAIN);
	close(sv[0]);
	cr_assert_eq(handoff_recv(sv[1], &b, &fd, &why), 0);
	close(sv[1]);
}

/* Send a raw payload with n copies of fd. */
static void
raw_send(int sock, const void *data, size_t len, int fd, int nfds)
{
	union {
		struct cmsghdr align;
		char	control[CMSG_SPACE(4 * sizeof(int))];
	} u;
	struct msghdr msg;
	struct iovec iov;
	struct cmsghdr *cm;
	int	i;

	memset(&msg, 0, sizeof(msg));
	memset(&u, 0, sizeof(u));
	iov.iov_base = (void *)data;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (nfds > 0) {
		msg.msg_control = u.control;
		msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		for (i = 0; i < nfds; i++)
			memcpy(CMSG_DATA(cm) + i * sizeof(int), &fd, sizeof(int));
	}
	cr_assert_eq(sendmsg(sock, &msg, 0), (ssize_t)len);
}

static void
expect_bad(int nfds, int corrupt)
{
	int	sv[2], p[2], fd = 7777, before;
	struct handoff a, b;
	uint8_t	buf[HANDOFF_MSG_MAX];
	ssize_t	n;
	const char *why = NULL;

	pair(sv);
	cr_assert_eq(pipe(p), 0);
	sample(&a, 0);
	n = handoff_encode(&a, buf, sizeof(buf));
	if (corrupt)
		buf[0] = 'X';
	raw_send(sv[0], buf, n, p[0], nfds);
	close(p[0]);
	before = count_fds();
	errno = 0;
	cr_assert_eq(handoff_recv(sv[1], &b, &fd, &why), -1);
	cr_assert_eq(errno, EBADMSG);
	cr_assert_not_null(why);
	cr_assert_eq(fd, -1);
	/* Every received copy was closed: nothing leaked. */
	cr_assert_eq(count_fds(), before, "fds leaked: %s", why);
	/* And the pipe's read end is gone everywhere: writing gets EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	cr_assert_eq(write(p[1], "x", 1), -1);
	cr_assert_eq(errno, EPIPE);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
}

Test(passing, two_fds_rejected_and_closed)
{
	expect_bad(2, 0);
}

Test(passing, three_fds_ctrunc_rejected_and_closed)
{
	expect_bad(3, 0);
}

Test(passing, bad_record_fd_closed)
{
	expect_bad(1, 1);
}

Test(passing, record_without_fd)
{
	int	sv[2], fd = 5;
	struct handoff a, b;
	const char *why = NULL;

	pair(sv);
	sample(&a, 0);
	cr_assert_eq(handoff_send(sv[0], &a, -1), 0);
	cr_assert_eq(handoff_recv(sv[1], &b, &fd, &why), -1);
	cr_assert_eq(errno, EBADMSG);
	cr_assert_str_eq(why, "record without fd");
	cr_assert_eq(fd, -1);
	close(sv[0]);
	close(sv[1]);
}

Test(passing, oversized_message)
{
	int	sv[2], p[2], fd;
	uint8_t	big[HANDOFF_MSG_MAX + 100];
	struct handoff b;
	const char *why = NULL;

	pair(sv);
	cr_assert_eq(pipe(p), 0);
	memset(big, 'A', sizeof(big));
	raw_send(sv[0], big, sizeof(big), p[0], 1);
	close(p[0]);
	cr_assert_eq(handoff_recv(sv[1], &b, &fd, &why), -1);
	cr_assert_eq(errno, EBADMSG);
	cr_assert_str_eq(why, "oversized record");
	signal(SIGPIPE, SIG_IGN);
	cr_assert_eq(write(p[1], "x", 1), -1);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
}

Test(status, bytes)
{
	int	sv[2];
	char	s[4];

	pair(sv);
	cr_assert_eq(handoff_send_status(sv[1], HANDOFF_ST_READY), 0);
	cr_assert_eq(handoff_send_status(sv[1], HANDOFF_ST_DONE_READY), 0);
	cr_assert_eq(handoff_send_status(sv[1], "BBBBBB"), 0);
	cr_assert_eq(handoff_send_status(sv[1], HANDOFF_ST_BUSY), 0);
	cr_assert_eq(handoff_recv_status(sv[0], s, sizeof(s)), 1);
	cr_assert_eq(s[0], HANDOFF_READY);
	cr_assert_eq(handoff_recv_status(sv[0], s, sizeof(s)), 2);
	cr_assert_eq(s[0], HANDOFF_DONE);
	cr_assert_eq(s[1], HANDOFF_READY);
	/* Too long for the buffer: cut, the rest gone with it. */
	cr_assert_eq(handoff_recv_status(sv[0], s, sizeof(s)), 4);
	cr_assert_eq(handoff_recv_status(sv[0], s, sizeof(s)), 1);
	cr_assert_eq(s[0], HANDOFF_BUSY);
	cr_assert_eq(handoff_recv_status(sv[0], s, sizeof(s)), -1);
	cr_assert_eq(errno, EAGAIN);
	close(sv[1]);
	cr_assert_eq(handoff_recv_status(sv[0], s, sizeof(s)), 0);
	close(sv[0]);
}

/* The spawner's messages: bytes and exactly one fd. */
Test(passing, one_fd_message)
{
	int	sv[2], p[2], fd = 5, before;
	char	buf[8];

	pair(sv);
	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(handoff_send_fd(sv[0], "req", 3, p[0], 0), 3);
	cr_assert_eq(handoff_recv_fd(sv[1], buf, sizeof(buf), &fd), 3);
	cr_assert_eq(memcmp(buf, "req", 3), 0);
	cr_assert_geq(fd, 0);
	cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	/* Two fds: none is taken, both are closed. */
	raw_send(sv[0], "two", 3, p[0], 2);
	before = count_fds();
	cr_assert_eq(handoff_recv_fd(sv[1], buf, sizeof(buf), &fd), 3);
	cr_assert_eq(fd, -1);
	cr_assert_eq(count_fds(), before);
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	cr_assert_eq(handoff_recv_fd(sv[1], buf, sizeof(buf), &fd), 0);
	close(sv[1]);
}
