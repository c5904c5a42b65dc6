/*
 * conf_int - what conf.c shares with validate.c (private to conf/).
 */
#ifndef DOORMAN_CONF_INT_H
#define DOORMAN_CONF_INT_H

#include <uthash.h>

#include "conf/conf.h"
#include "conf/params.h"

#define CONF_NAME_MAX		200
#define CONF_CMDLINE		"command line"
#define CONF_DEFAULT_ORIGIN	"default"

enum { CONF_SET_NONE, CONF_SET_FILE, CONF_SET_OVERRIDE };

struct conf_entry {
	char		*name;		/* canonical */
	char		*value;		/* as set; NULL when not set */
	char		*file;		/* where set */
	int		 line;
	int		 set;		/* CONF_SET_* */
	int		 referenced;	/* named by $name somewhere */
	const struct conf_param *param;	/* NULL if unknown */
	char		*exp;		/* cached expansion */
	unsigned	 exp_gen;
	char		**list;		/* cached list */
	unsigned	 list_gen;
	UT_hash_handle	 hh;
};

struct conf {
	struct conf_entry *map;
	unsigned	 gen;		/* bumped by every definition */
	void		**retired;
	size_t		 nretired, capretired;
	const char	**names;
	int		 quiet;		/* conf_validate: no unused-name warnings */
};

struct conf_lookup_ctx {
	struct conf	*conf;
	int		 mark;		/* set ->referenced on lookup */
};

struct conf_entry *conf_entry_find(const struct conf *, const char *name);
void	conf_retire(struct conf *, void *);
char   *conf_expand_flags(const struct conf *, const char *text, int flags,
	    struct conf_err *err);
int	conf_parse_int(const char *, long *);

#endif
