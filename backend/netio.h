/*
 * netio - the worker's blocking-style I/O on non-blocking sockets: a
 * bounded input buffer per peer, reads and writes that wait with poll()
 * and give up at a deadline, line reading with a length limit.
 *
 * A worker runs one session at a time, so plain poll() per call is all
 * the event machinery it needs; every wait is bounded by a deadline, so
 * a silent or dripping peer costs time, never memory.
 */
#ifndef DOORMAN_NETIO_H
#define DOORMAN_NETIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>

#define NETIO_BUFSIZE	8192

struct netio {
	int	fd;
	size_t	off;			/* first unread byte */
	size_t	len;			/* end of data */
	int	eof;			/* peer closed (read 0) */
	int	wait_first;		/* the peer must answer us: poll before reading */
	char	buf[NETIO_BUFSIZE];
};

/* Results of the reading calls. */
#define NETIO_OK	1
#define NETIO_EOF	0
#define NETIO_TIMEOUT	(-1)
#define NETIO_ERROR	(-2)

/* Milliseconds on a monotonic clock. */
int64_t	netio_now(void);

/*
 * Attach fd, which must be non-blocking (the screen accepts with
 * SOCK_NONBLOCK, a flag the fd keeps when passed), with initial bytes
 * already read.
 */
void	netio_init(struct netio *, int fd, const void *pre, size_t prelen);

/* Bytes buffered and not yet consumed. */
static inline size_t
netio_avail(const struct netio *n)
{
	return (n->len - n->off);
}

/*
 * Read more into the buffer, waiting until the absolute deadline (ms,
 * netio_now() clock).  NETIO_OK, NETIO_EOF, NETIO_TIMEOUT, NETIO_ERROR.
 */
int	netio_fill(struct netio *, int64_t deadline);

/*
 * Read one line ending in LF (CRLF or bare LF), stored without its line
 * end and NUL-terminated in line[cap].  A longer line is consumed up to
 * its LF but only cap-1 bytes are kept and *too_long is set.  With
 * per_record, the deadline is for the whole line; without, each read
 * gets timeout_ms afresh.  *len gets the stored length.
 */
int	netio_read_line(struct netio *, char *line, size_t cap, size_t *len,
	    int *too_long, int64_t timeout_ms, int per_record);

/* Write everything or fail (-1, errno ETIMEDOUT on deadline). */
int	netio_write(int fd, const void *data, size_t len, int64_t timeout_ms);

/* TCP_NODELAY (no-op on unix sockets). */
void	netio_nodelay(int fd);

/*
 * Non-blocking connect with a timeout; the fd (non-blocking, TCP_NODELAY
 * on inet), or -1 with errno.
 */
int	netio_connect(const struct sockaddr *, socklen_t, int64_t timeout_ms);

#endif
