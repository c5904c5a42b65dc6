/*
 * netio - bounded, deadline-driven I/O for the worker (see netio.h).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend/netio.h"
#include "conf/log.h"

int64_t
netio_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

void
netio_init(struct netio *n, int fd, const void *pre, size_t prelen)
{
	n->fd = fd;
	n->off = 0;
	n->len = 0;
	n->eof = 0;
	n->wait_first = 0;
	if (prelen > sizeof(n->buf))
		prelen = sizeof(n->buf);
	if (prelen > 0) {
		memcpy(n->buf, pre, prelen);
		n->len = prelen;
	}
}

/* Wait for events until deadline: revents (> 0), 0 timeout, -1 error. */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd;
	int64_t	left;
	int	r;

	log_flush();	/* held lines never wait with us */
	for (;;) {
		left = deadline - netio_now();
		if (left <= 0)
			return (0);
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		r = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		if (r > 0)
			return (pfd.revents);
	}
}

int
netio_fill(struct netio *n, int64_t deadline)
{
	ssize_t	r;
	int	w;

	if (n->eof)
		return (NETIO_EOF);
	/* Compact: keep unread bytes at the start. */
	if (n->off > 0) {
		memmove(n->buf, n->buf + n->off, n->len - n->off);
		n->len -= n->off;
		n->off = 0;
	}
	if (n->len == sizeof(n->buf))
		return (NETIO_OK);	/* full: the caller must consume */
	/*
	 * The peer has just been sent something it must answer: a read
	 * now would only say EAGAIN.  (Pipelined input is in the buffer
	 * already, or poll() returns at once.)
	 */
	if (n->wait_first) {
		n->wait_first = 0;
		w = wait_fd(n->fd, POLLIN, deadline);
		if (w == 0)
			return (NETIO_TIMEOUT);
		if (w < 0)
			return (NETIO_ERROR);
	}
	for (;;) {
		r = read(n->fd, n->buf + n->len, sizeof(n->buf) - n->len);
		if (r > 0) {
			n->len += (size_t)r;
			return (NETIO_OK);
		}
		if (r == 0) {
			n->eof = 1;
			return (NETIO_EOF);
		}
		if (errno == EINTR)
			continue;
		if (errno == ECONNRESET) {
			n->eof = 1;
			return (NETIO_EOF);
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return (NETIO_ERROR);
		w = wait_fd(n->fd, POLLIN, deadline);
		if (w == 0)
			return (NETIO_TIMEOUT);
		if (w < 0)
			return (NETIO_ERROR);
	}
}

int
netio_read_line(struct netio *n, char *line, size_t cap, size_t *len,
    int *too_long, int64_t timeout_ms, int per_record)
{
	int64_t	deadline = netio_now() + timeout_ms;
	size_t	kept = 0, i;
	char	*lf;
	int	r;

	*too_long = 0;
	*len = 0;
	line[0] = 0;
	for (;;) {
		if (netio_avail(n) > 0) {
			lf = memchr(n->buf + n->off, '\n', netio_avail(n));
			i = lf ? (size_t)(lf - (n->buf + n->off)) : netio_avail(n);
			/* Keep what fits; drop the rest of a long line. */
			if (kept + i > cap - 1) {
				memcpy(line + kept, n->buf + n->off, cap - 1 - kept);
				kept = cap - 1;
				*too_long = 1;
			} else {
				memcpy(line + kept, n->buf + n->off, i);
				kept += i;
			}
			n->off += i;
			if (lf) {
				n->off++;	/* the LF */
				if (kept > 0 && line[kept - 1] == '\r' && !*too_long)
					kept--;
				line[kept] = 0;
				*len = kept;
				return (NETIO_OK);
			}
		}
		if (!per_record)
			deadline = netio_now() + timeout_ms;
		if ((r = netio_fill(n, deadline)) != NETIO_OK) {
			line[kept] = 0;
			*len = kept;
			return (r);
		}
	}
}

int
netio_write(int fd, const void *data, size_t len, int64_t timeout_ms)
{
	const char *p = data;
	int64_t	deadline = netio_now() + timeout_ms;
	ssize_t	r;
	int	w;

	while (len > 0) {
		r = send(fd, p, len, MSG_NOSIGNAL);
		if (r < 0 && errno == ENOTSOCK)
			r = write(fd, p, len);
		if (r > 0) {
			p += r;
			len -= (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return (-1);
		w = wait_fd(fd, POLLOUT, deadline);
		if (w == 0) {
			errno = ETIMEDOUT;
			return (-1);
		}
		if (w < 0)
			return (-1);
	}
	return (0);
}

/*
 * Replies and commands are whole writes already; Nagle would only hold
 * the last segment of one back for the peer's delayed ACK.
 */
void
netio_nodelay(int fd)
{
	int on = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

int
netio_connect(const struct sockaddr *sa, socklen_t salen, int64_t timeout_ms)
{
	int	fd, err = 0, w;
	socklen_t elen = sizeof(err);

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return (-1);
	if (sa->sa_family != AF_UNIX)
		netio_nodelay(fd);
	if (connect(fd, sa, salen) == 0)
		return (fd);
	if (errno != EINPROGRESS && errno != EAGAIN) {
		err = errno;
		goto fail;
	}
	w = wait_fd(fd, POLLOUT, netio_now() + timeout_ms);
	if (w == 0) {
		err = ETIMEDOUT;
		goto fail;
	}
	if (w < 0) {
		err = errno;
		goto fail;
	}
	/* Writable without an error condition: connected, nothing to ask. */
	if (!(w & (POLLERR | POLLHUP)))
		return (fd);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
		err = errno;
	if (err == 0)
		return (fd);	/* connected and closed at once: the read will tell */
fail:
	close(fd);
	errno = err;
	return (-1);
}
