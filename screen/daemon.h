/*
 * daemon - `doorman run`: the screen's event loop, its signals
 * (SIGHUP reload, SIGTERM drain) and the open-file budget.
 */
#ifndef DOORMAN_DAEMON_H
#define DOORMAN_DAEMON_H

/* Run until SIGTERM; returns the exit code. */
int	daemon_run(void);

#endif
