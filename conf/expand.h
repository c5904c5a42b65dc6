/*
 * expand - main.cf's $name expansion (private to conf/; the public
 * face is conf_expand() and conf_expand_with() in conf.h).
 */
#ifndef DOORMAN_EXPAND_H
#define DOORMAN_EXPAND_H

#include "conf/conf.h"

#define EXPAND_MAX_DEPTH	100		/* nested $name references */
#define EXPAND_MAX_STEPS	100000		/* lookups in one expansion */
#define EXPAND_MAX_LEN		(1024 * 1024)	/* bytes of result */

#define EXPAND_RECURSE	0x01	/* expand looked-up values in turn */
#define EXPAND_SCAN	0x02	/* also walk branches not taken */

/*
 * Expand text; lookup returns the value of a name or NULL.  Returns a
 * malloc'd string, or NULL and err->reason (file and line left empty).
 */
char   *expand_text(const char *text, conf_lookup_fn lookup, void *ctx,
	    int flags, struct conf_err *err);

#endif
