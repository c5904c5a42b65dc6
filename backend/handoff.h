/*
 * handoff - the record and the fd passing between the screen and a
 * worker, over one socketpair(AF_UNIX, SOCK_SEQPACKET) per worker.
 *
 * screen -> worker: one message = the encoded record (fixed layout,
 *   network byte order, versioned) + the client fd in SCM_RIGHTS.
 * worker -> screen: one-byte statuses HANDOFF_READY (started, or idle
 *   again), HANDOFF_BUSY (took the fd), HANDOFF_DONE (session over), one
 *   message each, except DONE+READY sent as one two-byte message.  The
 *   screen closes its copy of the fd only on BUSY.
 * The screen tells a worker to exit by closing its end (EOF), as
 * Postfix's master closes the status pipe: an idle worker exits at once,
 * a busy one after its session.
 */
#ifndef DOORMAN_HANDOFF_H
#define DOORMAN_HANDOFF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define HANDOFF_MAGIC		0x444d4831u	/* "DMH1" */
#define HANDOFF_VERSION		1
#define HANDOFF_EHLO_MAX	255
#define HANDOFF_PENDING_MAX	2048	/* client bytes already read by the screen */
#define HANDOFF_LISTENER_MAX	63
#define HANDOFF_MSG_MAX		4096	/* largest encoded record */

/* Status bytes from the worker, as strings for handoff_send_status(). */
#define HANDOFF_READY	'R'
#define HANDOFF_BUSY	'B'
#define HANDOFF_DONE	'D'
#define HANDOFF_ST_READY	"R"
#define HANDOFF_ST_BUSY		"B"
#define HANDOFF_ST_DONE		"D"
#define HANDOFF_ST_DONE_READY	"DR"

/* Verdict flags. */
#define HANDOFF_F_TEASER_SENT	0x0001	/* "220-" went out: worker must send the final "220 " */
#define HANDOFF_F_ALLOWLISTED	0x0002
#define HANDOFF_F_PASS_OLD	0x0004
#define HANDOFF_F_PASS_NEW	0x0008
#define HANDOFF_F_PREGREET_FAIL	0x0010	/* pregreet failed under "ignore" */
#define HANDOFF_F_DNSBL_FAIL	0x0020	/* DNSBL rank over threshold under "ignore" */
#define HANDOFF_F_DENYLISTED	0x0040	/* denylisted under "ignore" */
#define HANDOFF_F_X21		0x0080	/* completed greeting, then 421 on first command */
#define HANDOFF_F_GREETED	0x0100	/* the screen sent the final "220 " line itself */

struct handoff {
	struct sockaddr_storage client;	/* client address and port */
	struct sockaddr_storage server;	/* local address and port it connected to */
	char	listener[HANDOFF_LISTENER_MAX + 1];	/* "127.0.0.1:2525" */
	uint32_t flags;
	int32_t	dnsbl_score;
	char	ehlo[HANDOFF_EHLO_MAX + 1];	/* EHLO/HELO name seen by deep tests, or "" */
	uint16_t pending_len;
	uint8_t	pending[HANDOFF_PENDING_MAX];	/* client bytes the screen consumed */
};

/* Encode into buf; returns the length, or -1 if cap is too small. */
ssize_t	handoff_encode(const struct handoff *, uint8_t *buf, size_t cap);
/* Decode; -1 and *why for a bad magic/version, truncated or oversized record. */
int	handoff_decode(const uint8_t *buf, size_t len, struct handoff *, const char **why);

/*
 * Send record + fd (non-blocking socket): 0 sent, -1 with errno
 * (EAGAIN: try later).
 */
int	handoff_send(int sock, const struct handoff *, int fd);

/*
 * Receive one record + fd.  1: got both (*fd set).  0: EOF.  -1: error
 * with errno (EAGAIN), or a bad message: *why set, any received fds
 * already closed (MSG_CTRUNC, stray or missing fd, bad record).
 */
int	handoff_recv(int sock, struct handoff *, int *fd, const char **why);

/*
 * Any one message with one fd in SCM_RIGHTS (the spawner's requests and
 * its template's): bytes sent, or -1 with errno.  flags as send(2).
 */
ssize_t	handoff_send_fd(int sock, const void *buf, size_t len, int fd, int flags);

/*
 * One such message: bytes received (0 at EOF), or -1 with errno.  *fd is
 * the fd when exactly one came, whole; otherwise -1, and whatever came
 * is closed (a cut message or cut control data counts as none).
 */
ssize_t	handoff_recv_fd(int sock, void *buf, size_t cap, int *fd);

/*
 * Status bytes, one or a few in one message (DONE and READY go
 * together, one wake-up of the screen instead of two): 0 or -1 with
 * errno.
 */
int	handoff_send_status(int sock, const char *statuses);
/* Bytes of one message (at most cap), in order; 0 EOF; -1 errno. */
int	handoff_recv_status(int sock, char *statuses, size_t cap);

/*
 * The client socket's last holder, screen or worker, before it closes
 * it after a final reply with the client's input unread (early talk
 * only peeked at, commands pipelined after a 421): read and drop what
 * is there, at most 64 KB, so that the close sends a FIN after the reply
 * rather than a reset that can destroy it before the client reads it.
 */
void	handoff_drain_client(int fd);

#endif
