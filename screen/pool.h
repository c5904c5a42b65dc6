/*
 * pool - the screen's pool of doorman-smtpd workers, supervised as
 * Postfix's master supervises smtpd: started on demand up to
 * backend_process_limit, restarted with back-off when they die,
 * replaced with "-o stress=yes" while the pool is saturated and with
 * "-o stress=" once it has cooled down.  Clients wait for an idle worker
 * in the post-queue, bounded in length and in time.
 */
#ifndef DOORMAN_POOL_H
#define DOORMAN_POOL_H

#include <stdio.h>

#include "conf/conf.h"

struct session;

/* spawner_err: why spawner_start() failed, or 0 (see spawner.h). */
void	pool_init(int spawner_err);
/* Apply backend_* settings after a reload (limits, stress mode, timers). */
void	pool_configure(struct conf *);
/* Hand this session to a worker, now or when one is idle. */
void	pool_submit(struct session *);
/* Stop: close every worker's channel (they finish their session, then exit). */
void	pool_shutdown(void);
/* Workers still running (for the drain on SIGTERM). */
int	pool_active(void);
/* Clients waiting for a worker. */
size_t	pool_post_queue(void);
int	pool_in_stress(void);
void	pool_status(FILE *);
/* doorman_pool_* in Prometheus text format. */
void	pool_metrics_print(FILE *);

#endif
