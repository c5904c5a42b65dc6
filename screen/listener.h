/*
 * listener - the sockets of `listen`, accepting without ever spinning:
 * out of file descriptors, accepting pauses for a second with one
 * warning, and held clients are unaffected.
 */
#ifndef DOORMAN_LISTENER_H
#define DOORMAN_LISTENER_H

#include "conf/conf.h"

struct listener;

/* Bind every address of `listen`; -1 and *err on a bad or busy address. */
int	listeners_open(struct conf *, struct conf_err *);
void	listeners_start(void);
/* Stop accepting (SIGTERM) and close the sockets. */
void	listeners_close(void);
/* "127.0.0.1:2525", as master names a service's listener. */
const char *listener_name(const struct listener *);

#endif
