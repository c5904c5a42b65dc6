/*
 * spawner - a small helper process that starts the doorman-smtpd
 * workers on the screen's behalf.
 *
 * Starting a worker from the screen itself (posix_spawn) copies the
 * screen's descriptor table, one entry per held client, and suspends the
 * screen until the exec: with 10,000 zombies held, a stall of a
 * millisecond or more for every worker started, felt by every client in
 * the loop (workers are replaced every backend_max_use sessions).  The
 * spawner is forked once at start, before any client is accepted, and
 * keeps nothing but its request socket.  It starts each worker with
 * clone(CLONE_PARENT), so the worker is the screen's child all the same
 * (reaped, and its exit logged, by the screen), while the screen only
 * sends a request and goes on.
 *
 * Request (screen -> spawner, one SOCK_SEQPACKET message): 'E' (exec)
 * or 'T' (a template may fork it), the program path and the argument
 * vector as NUL-terminated strings, with the
 * worker's channel in SCM_RIGHTS (it becomes fd 3 of the worker).  Reply,
 * in request order: the pid, or the errno of a failed start.
 */
#ifndef DOORMAN_SPAWNER_H
#define DOORMAN_SPAWNER_H

#include <sys/types.h>

#define SPAWNER_CHANNEL_FD	3	/* where a worker finds its channel */

/* Fork the spawner; 0, or -1 with errno (start workers directly then). */
int	spawner_start(void);
/* The socket replies arrive on, or -1 when there is no spawner. */
int	spawner_fd(void);
pid_t	spawner_pid(void);

/*
 * Ask for a worker: 0, or -1 with errno.  chan stays the caller's to
 * close.  SPAWNER_TEMPLATE: path is doorman-smtpd, which may then be
 * forked from a template that has loaded the same config (same argv).
 */
#define SPAWNER_TEMPLATE	0x1
int	spawner_request(const char *path, const char *const *argv, int chan, int flags);

/*
 * One reply: 1 with *pid (>0) or *err (an errno value, *pid = 0); 0 when
 * the spawner has gone; -1 with errno (EAGAIN: none yet).
 */
int	spawner_reply(pid_t *pid, int *err);

/* Close the socket: the spawner exits.  Safe to call twice. */
void	spawner_stop(void);

#endif
