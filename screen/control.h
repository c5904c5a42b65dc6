/*
 * control - what the running daemon tells about itself: `doorman
 * status` over the owner-only unix socket $data_directory/doorman.ctl,
 * and Prometheus metrics over HTTP on metrics_listen (optional).
 */
#ifndef DOORMAN_CONTROL_H
#define DOORMAN_CONTROL_H

#include "conf/conf.h"

/* Create the control socket (and the metrics listener); -1 and *err. */
int	control_open(struct conf *, struct conf_err *);
void	control_close(void);

/* `doorman status`: ask the daemon and print its answer; the exit code. */
int	control_status_command(struct conf *);

#endif
