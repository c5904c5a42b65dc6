/*
 * lines - logical lines of main.cf-style files (private to conf/).
 *
 * Shared by the config parser and the lookup tables: blank lines and
 * "#" comment lines are skipped, a line that starts with white space
 * continues the logical line before it (joined with one space), and
 * NUL bytes or lines over LINES_MAX are errors, never silent cuts.
 */
#ifndef DOORMAN_LINES_H
#define DOORMAN_LINES_H

#include "conf/conf.h"

#define LINES_MAX	(64 * 1024)

struct lines;

/* what: "parameter" or "entry", for the continuation error. */
struct lines *lines_open(const char *path, const char *what,
	    struct conf_err *err);
/*
 * 1 and *text (trimmed at both ends; valid until the next call) and
 * *lineno (the logical line's first physical line); 0 at end of file;
 * -1 and *err (file, line, reason) on error.
 */
int	lines_next(struct lines *, const char **text, int *lineno,
	    struct conf_err *err);
void	lines_close(struct lines *);

/* Fill err with file, line and a printf-style reason; returns -1. */
int	conf_err_set(struct conf_err *, const char *file, int line,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
