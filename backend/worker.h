/*
 * worker - the worker's side of the pool protocol with the screen
 * (handoff.h): READY, then for each record BUSY, the session, DONE, and
 * READY again unless the worker is about to exit.
 */
#ifndef DOORMAN_WORKER_H
#define DOORMAN_WORKER_H

#include "backend/session.h"

struct worker_limits {
	long	max_use;		/* backend_max_use sessions, then exit */
	long	max_idle;		/* backend_max_idle seconds idle, then exit */
};

/* Serve records from sock until EOF, max_idle or max_use; returns the exit code. */
int	worker_run(int sock, const struct smtpd_params *, const struct worker_limits *);

#endif
