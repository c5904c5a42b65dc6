/*
 * config_load - read doorman.cf the way every sub-command needs it:
 * the file, the -o overrides, the stress value, validation, and the
 * values the screen keeps in struct screen_params.
 */
#ifndef DOORMAN_CONFIG_LOAD_H
#define DOORMAN_CONFIG_LOAD_H

#include "conf/conf.h"
#include "screen/screen.h"

/* NULL and *err on error.  stress: "" or "yes". quiet: no unused-name warnings. */
struct conf *config_load(const char *dir, char **overrides, const char *stress,
	    int quiet, struct conf_err *err);
/* Fill screen.p from screen.conf; -1 and *err on a bad action value. */
int	config_screen_params(struct screen_params *, struct conf *, struct conf_err *);
/* Open (and close) every lookup table the screen will use; -1 and *err. */
int	config_open_tables(struct conf *, struct conf_err *);
/* Print "FILE:LINE: reason" (or "FILE: reason") to stderr. */
void	config_print_error(const struct conf_err *);

#endif
