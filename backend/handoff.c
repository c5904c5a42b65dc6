/*
 * handoff - encode, decode and pass the hand-off record with the client
 * fd between the screen and a worker (see handoff.h).
 *
 * The wire layout is explicit and in network byte order, never a raw
 * copy of struct handoff, so that a record means the same thing whatever
 * the compiler did to the struct, and so that every field can be checked
 * before it is trusted:
 *
 *	u32	magic (HANDOFF_MAGIC)
 *	u16	version (HANDOFF_VERSION)
 *	u32	flags
 *	u32	dnsbl score (two's complement)
 *	addr	client		(see below)
 *	addr	server
 *	str	listener	(u8 length n <= HANDOFF_LISTENER_MAX, n bytes, NUL)
 *	str	ehlo		(u8 length n <= HANDOFF_EHLO_MAX, n bytes, NUL)
 *	u16	pending length p <= HANDOFF_PENDING_MAX, then p bytes
 *
 *	addr =	u8 family (4 or 6), 16 address bytes (IPv4 in the first 4,
 *		the rest zero), u16 port, u32 IPv6 scope id (0 for IPv4)
 *
 * The record must end exactly after the pending bytes: anything shorter
 * is truncated, anything longer oversized.
 *
 * One record is one SOCK_SEQPACKET message with the fd in SCM_RIGHTS, so
 * the record and its fd can never be split or paired with another's.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "backend/handoff.h"

#define WIRE_FAM_INET	4
#define WIRE_FAM_INET6	6
#define WIRE_ADDR_LEN	(1 + 16 + 2 + 4)

/* A bounded writer: once it overflows it stays overflowed. */
struct wbuf {
	uint8_t	*p;
	size_t	len;
	size_t	cap;
	int	over;
};

/* A bounded reader: once it runs short it stays short. */
struct rbuf {
	const uint8_t *p;
	size_t	len;
	size_t	off;
	int	short_;
};

static void
put_bytes(struct wbuf *w, const void *data, size_t n)
{
	if (w->over || n > w->cap - w->len) {
		w->over = 1;
		return;
	}
	memcpy(w->p + w->len, data, n);
	w->len += n;
}

static void
put_u8(struct wbuf *w, uint8_t v)
{
	put_bytes(w, &v, 1);
}

static void
put_u16(struct wbuf *w, uint16_t v)
{
	uint8_t b[2] = { v >> 8, v & 0xff };

	put_bytes(w, b, 2);
}

static void
put_u32(struct wbuf *w, uint32_t v)
{
	uint8_t b[4] = { v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff };

	put_bytes(w, b, 4);
}

static int
put_addr(struct wbuf *w, const struct sockaddr_storage *ss)
{
	uint8_t	a[16];

	memset(a, 0, sizeof(a));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		memcpy(a, &sin->sin_addr, 4);
		put_u8(w, WIRE_FAM_INET);
		put_bytes(w, a, 16);
		put_u16(w, ntohs(sin->sin_port));
		put_u32(w, 0);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		put_u8(w, WIRE_FAM_INET6);
		put_bytes(w, &sin6->sin6_addr, 16);
		put_u16(w, ntohs(sin6->sin6_port));
		put_u32(w, sin6->sin6_scope_id);
	} else
		return (-1);
	return (0);
}

/* A string field; the struct's copy must be NUL-terminated within max. */
static int
put_str(struct wbuf *w, const char *s, size_t max)
{
	size_t	n = strnlen(s, max + 1);

	if (n > max)
		return (-1);
	put_u8(w, (uint8_t)n);
	put_bytes(w, s, n);
	put_u8(w, 0);
	return (0);
}

ssize_t
handoff_encode(const struct handoff *h, uint8_t *buf, size_t cap)
{
	struct wbuf w = { buf, 0, cap, 0 };

	if (h->pending_len > HANDOFF_PENDING_MAX)
		return (-1);
	put_u32(&w, HANDOFF_MAGIC);
	put_u16(&w, HANDOFF_VERSION);
	put_u32(&w, h->flags);
	put_u32(&w, (uint32_t)h->dnsbl_score);
	if (put_addr(&w, &h->client) < 0 || put_addr(&w, &h->server) < 0)
		return (-1);
	if (put_str(&w, h->listener, HANDOFF_LISTENER_MAX) < 0 ||
	    put_str(&w, h->ehlo, HANDOFF_EHLO_MAX) < 0)
		return (-1);
	put_u16(&w, h->pending_len);
	put_bytes(&w, h->pending, h->pending_len);
	if (w.over)
		return (-1);
	return ((ssize_t)w.len);
}

static const uint8_t *
get_bytes(struct rbuf *r, size_t n)
{
	const uint8_t *p;

	if (r->short_ || n > r->len - r->off) {
		r->short_ = 1;
		return (NULL);
	}
	p = r->p + r->off;
	r->off += n;
	return (p);
}

static uint8_t
get_u8(struct rbuf *r)
{
	const uint8_t *p = get_bytes(r, 1);

	return (p ? p[0] : 0);
}

static uint16_t
get_u16(struct rbuf *r)
{
	const uint8_t *p = get_bytes(r, 2);

	return (p ? (uint16_t)((p[0] << 8) | p[1]) : 0);
}

static uint32_t
get_u32(struct rbuf *r)
{
	const uint8_t *p = get_bytes(r, 4);

	return (p ? ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3] : 0);
}

static int
get_addr(struct rbuf *r, struct sockaddr_storage *ss, const char **why)
{
	uint8_t	fam = get_u8(r);
	const uint8_t *a = get_bytes(r, 16);
	uint16_t port = get_u16(r);
	uint32_t scope = get_u32(r);

	memset(ss, 0, sizeof(*ss));
	if (r->short_) {
		*why = "truncated record";
		return (-1);
	}
	if (fam == WIRE_FAM_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		static const uint8_t zero[12];

		/* Padding must be zero: one meaning per record. */
		if (memcmp(a + 4, zero, sizeof(zero)) != 0 || scope != 0) {
			*why = "bad IPv4 address field";
			return (-1);
		}
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, a, 4);
		sin->sin_port = htons(port);
	} else if (fam == WIRE_FAM_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, a, 16);
		sin6->sin6_port = htons(port);
		sin6->sin6_scope_id = scope;
	} else {
		*why = "bad address family";
		return (-1);
	}
	return (0);
}

static int
get_str(struct rbuf *r, char *dst, size_t max, const char **why)
{
	size_t	n = get_u8(r);
	const uint8_t *p;

	if (r->short_) {
		*why = "truncated record";
		return (-1);
	}
	if (n > max) {
		*why = "string field too long";
		return (-1);
	}
	p = get_bytes(r, n + 1);
	if (p == NULL) {
		*why = "truncated record";
		return (-1);
	}
	if (p[n] != 0 || memchr(p, 0, n) != NULL) {
		*why = "string field not NUL-terminated";
		return (-1);
	}
	memcpy(dst, p, n + 1);
	return (0);
}

int
handoff_decode(const uint8_t *buf, size_t len, struct handoff *h,
    const char **why)
{
	struct rbuf r = { buf, len, 0, 0 };
	uint32_t magic;
	uint16_t version;
	const uint8_t *p;
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	memset(h, 0, sizeof(*h));
	if (len > HANDOFF_MSG_MAX) {
		*why = "oversized record";
		return (-1);
	}
	magic = get_u32(&r);
	version = get_u16(&r);
	if (r.short_) {
		*why = "truncated record";
		return (-1);
	}
	if (magic != HANDOFF_MAGIC) {
		*why = "bad record magic";
		return (-1);
	}
	if (version != HANDOFF_VERSION) {
		*why = "unsupported record version";
		return (-1);
	}
	h->flags = get_u32(&r);
	h->dnsbl_score = (int32_t)get_u32(&r);
	if (r.short_) {
		*why = "truncated record";
		return (-1);
	}
	if (get_addr(&r, &h->client, why) < 0 ||
	    get_addr(&r, &h->server, why) < 0 ||
	    get_str(&r, h->listener, HANDOFF_LISTENER_MAX, why) < 0 ||
	    get_str(&r, h->ehlo, HANDOFF_EHLO_MAX, why) < 0)
		return (-1);
	h->pending_len = get_u16(&r);
	if (r.short_) {
		*why = "truncated record";
		return (-1);
	}
	if (h->pending_len > HANDOFF_PENDING_MAX) {
		*why = "pending data too long";
		return (-1);
	}
	p = get_bytes(&r, h->pending_len);
	if (p == NULL) {
		*why = "truncated record";
		return (-1);
	}
	memcpy(h->pending, p, h->pending_len);
	if (r.off != len) {
		*why = "oversized record";
		return (-1);
	}
	return (0);
}

/* One message, with fd in SCM_RIGHTS unless it is -1: sendmsg's result. */
static ssize_t
send_msg(int sock, const void *buf, size_t len, int fd, int flags)
{
	union {
		struct cmsghdr align;
		char	control[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr msg;
	struct iovec iov;
	struct cmsghdr *cm;
	ssize_t	n;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = (void *)buf;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (fd >= 0) {
		memset(&u, 0, sizeof(u));
		msg.msg_control = u.control;
		msg.msg_controllen = sizeof(u.control);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &msg, flags | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return (n);
}

int
handoff_send(int sock, const struct handoff *h, int fd)
{
	uint8_t	buf[HANDOFF_MSG_MAX];
	ssize_t	len, n;

	if ((len = handoff_encode(h, buf, sizeof(buf))) < 0) {
		errno = EINVAL;
		return (-1);
	}
	/* fd < 0 sends the record alone (only tests want that). */
	if ((n = send_msg(sock, buf, (size_t)len, fd, MSG_DONTWAIT)) < 0)
		return (-1);
	if (n != len) {		/* cannot happen on SEQPACKET; be safe */
		errno = EMSGSIZE;
		return (-1);
	}
	return (0);
}

/* Close every fd carried by the control messages of msg. */
static int
collect_fds(struct msghdr *msg, int *fd)
{
	struct cmsghdr *cm;
	int	count = 0, one;
	size_t	i, n;

	*fd = -1;
	for (cm = CMSG_FIRSTHDR(msg); cm != NULL; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		if (cm->cmsg_len < CMSG_LEN(0))
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&one, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (one < 0)
				continue;
			if (count++ == 0)
				*fd = one;
			else
				close(one);	/* a stray fd: never leak it */
		}
	}
	return (count);
}

int
handoff_recv(int sock, struct handoff *h, int *fd, const char **why)
{
	/* One byte more than the largest record, to see oversized ones. */
	uint8_t	buf[HANDOFF_MSG_MAX + 1];
	union {
		struct cmsghdr align;
		char	control[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr msg;
	struct iovec iov;
	ssize_t	n;
	int	count, got = -1;
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	*fd = -1;
	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	memset(&msg, 0, sizeof(msg));
	memset(&u, 0, sizeof(u));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.control;
	msg.msg_controllen = sizeof(u.control);
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return (-1);
	count = collect_fds(&msg, &got);
	if (n == 0 && count == 0)
		return (0);
	if (msg.msg_flags & MSG_CTRUNC)
		*why = "control data truncated (fd lost)";
	else if (msg.msg_flags & MSG_TRUNC)
		*why = "oversized record";
	else if (count > 1)
		*why = "more than one fd in record";
	else if (count == 0)
		*why = "record without fd";
	else if (handoff_decode(buf, (size_t)n, h, why) == 0) {
		*fd = got;
		return (1);
	}
	if (got >= 0)
		close(got);
	errno = EBADMSG;
	return (-1);
}

int
handoff_send_status(int sock, const char *statuses)
{
	size_t	len = strlen(statuses);
	ssize_t	n;

	do
		n = send(sock, statuses, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	return (n == (ssize_t)len ? 0 : -1);
}

int
handoff_recv_status(int sock, char *statuses, size_t cap)
{
	ssize_t	n;

	/*
	 * Whole messages only (SEQPACKET): one longer than cap is cut, its
	 * rest discarded, never mistaken for the next message.
	 */
	do
		n = recv(sock, statuses, cap, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	return ((int)n);
}

ssize_t
handoff_send_fd(int sock, const void *buf, size_t len, int fd, int flags)
{
	return (send_msg(sock, buf, len, fd, flags));
}

ssize_t
handoff_recv_fd(int sock, void *buf, size_t cap, int *fd)
{
	union {
		struct cmsghdr align;
		char	control[CMSG_SPACE(4 * sizeof(int))];	/* room to see extras */
	} u;
	struct msghdr msg;
	struct iovec iov;
	ssize_t	n;
	int	count;

	*fd = -1;
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = buf;
	iov.iov_len = cap;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.control;
	msg.msg_controllen = sizeof(u.control);
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return (n);
	count = collect_fds(&msg, fd);
	if (count != 1 || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
	return (n);
}

void
handoff_drain_client(int fd)
{
	char	buf[4096];
	int	i;

	for (i = 0; i < 16; i++)
		if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) <= 0)
			break;
}
