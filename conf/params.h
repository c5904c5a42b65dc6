/*
 * params - the table of known parameters (private to conf/).
 *
 * conf.c consults it for defaults, types and the extra checks that
 * conf_validate() runs on expanded values; `doorman config -d` prints
 * it.  Kept apart from conf.c so that adding a parameter touches one
 * line in one file.
 */
#ifndef DOORMAN_PARAMS_H
#define DOORMAN_PARAMS_H

#include <stddef.h>

#include "conf/conf.h"

/* What conf_validate() checks beyond the type. */
enum conf_check {
	CHK_NONE,
	CHK_ENUM,		/* one of the "|"-separated words in allowed */
	CHK_ACTION,		/* ignore | enforce | drop | continue */
	CHK_ENDPOINT,		/* addr_parse_endpoint(), or empty if allowed */
	CHK_ENDPOINT_LIST,	/* list of endpoints */
	CHK_NETWORKS,		/* list of networks or type:table */
	CHK_ACCESS,		/* postscreen access list items */
	CHK_DNS_SERVERS		/* list of ip or ip:port */
};

#define PARAM_RAW	0x01	/* never expanded at config time */
#define PARAM_EMPTY_OK	0x02	/* empty passes a type/check */

struct conf_param {
	const char	*name;
	enum conf_type	 type;
	const char	*def;		/* NULL: computed (params_default()) */
	char		 unit;		/* default time unit */
	long		 min;		/* for time (seconds) and int */
	int		 flags;
	enum conf_check	 check;
	const char	*allowed;	/* for CHK_ENUM */
};

const struct conf_param *params_find(const char *canonical_name);
const struct conf_param *params_all(size_t *count);
/* The default text of a param (computed ones such as myhostname). */
const char *params_default(const struct conf_param *);

#endif
