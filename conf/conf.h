/*
 * conf - doorman's parameters in Postfix main.cf syntax.
 *
 * One struct conf holds the built-in defaults (conf/params.c), the
 * definitions read from doorman.cf and the -o overrides, each with the
 * file and line it came from, so that a bad value is reported where the
 * admin wrote it.  Values are expanded on demand ($name, ${name},
 * ${name?v}, ${name:v}, ${name?{a}:{b}}, $$) with a recursion limit.
 *
 * Strings returned by the getters stay valid until conf_free(); the
 * getters themselves never fail, because conf_validate() has checked
 * every known parameter at start-up.
 */
#ifndef DOORMAN_CONF_H
#define DOORMAN_CONF_H

#include <stddef.h>

/* Where a bad definition was found, and why it is bad. */
struct conf_err {
	char	file[256];	/* config path, "command line" (-o) or "default" */
	int	line;		/* 1-based; 0 when not from a file */
	char	reason[512];
};

/* Value types of known parameters (conf/params.c). */
enum conf_type {
	CONF_STR,	/* any text */
	CONF_TIME,	/* integer + optional unit s m h d w */
	CONF_BOOL,	/* yes | no */
	CONF_INT,	/* decimal integer */
	CONF_LIST,	/* separated by commas and/or white space */
	CONF_TABLE	/* type:name, or empty */
};

struct conf;

struct conf *conf_create(void);
void	conf_free(struct conf *);

/* Read a main.cf-style file.  -1 and *err on a syntax error. */
int	conf_read_file(struct conf *, const char *path, struct conf_err *err);

/* Apply "name=value" as -o does; it wins over the file. */
int	conf_override(struct conf *, const char *assignment, struct conf_err *err);

/* Set a value directly (as an override); used for stress=yes. */
void	conf_set(struct conf *, const char *name, const char *value);

/*
 * Check every known parameter's expanded value against its type and
 * minimum; warn ("warning: FILE:LINE: unused parameter: name=value")
 * about names nobody knows.  -1 and *err on the first bad value.
 */
int	conf_validate(struct conf *, struct conf_err *err);

/* No "unused parameter" warnings from conf_validate (a second evaluation). */
void	conf_set_quiet(struct conf *, int);

/* The unexpanded value (set or default), NULL if unknown and unset. */
const char *conf_raw(const struct conf *, const char *name);

/* Non-zero when set in the file or with -o (postconf -n). */
int	conf_is_set(const struct conf *, const char *name);

/* The built-in default of a known name, NULL if none (postconf -d). */
const char *conf_default(const char *name);

/* Expand arbitrary text against the parameters.  NULL and *err on error. */
char   *conf_expand(const struct conf *, const char *text, struct conf_err *err);

/*
 * Expand a template against names the caller supplies (the rbl module's
 * $rbl_code, $client_address, ${rbl_reason?; $rbl_reason}, ...).  The
 * looked-up values are inserted as they are, never expanded in turn
 * (they may come from the network); the template's own conditional
 * texts are.  lookup returns NULL for an unknown name (expands to
 * nothing).  A malloc'd string, or NULL and err->reason on a syntax
 * error (unbalanced braces, bad name).
 */
typedef const char *(*conf_lookup_fn)(void *ctx, const char *name);
char   *conf_expand_with(const char *text, conf_lookup_fn lookup, void *ctx,
	    struct conf_err *err);

/*
 * "FILE:LINE: reason" (DESIGN §3), or "FILE: reason" when line is 0, or just the
 * reason when there is no file; returns buf.
 */
char   *conf_err_format(const struct conf_err *, char *buf, size_t len);

/* Getters: the expanded value.  Names are canonical (screen_*, not postscreen_*). */
const char *conf_str(struct conf *, const char *name);
long	conf_time(struct conf *, const char *name);	/* seconds */
long	conf_int(struct conf *, const char *name);
int	conf_bool(struct conf *, const char *name);
/* NULL-terminated vector of list items; stays valid until conf_free(). */
char  **conf_list(struct conf *, const char *name);

/* Parse a list value (commas and/or white space; {...} kept whole). */
char  **conf_split_list(const char *text);
void	conf_free_list(char **);

/* Parse "10s", "2m", ... with default unit; -1 on error. */
long	conf_parse_time(const char *text, char default_unit);

/* Canonical name: postscreen_X -> screen_X; others unchanged. */
const char *conf_canonical_name(const char *name, char *buf, size_t len);

/*
 * Iterate over every parameter that is known or set, sorted by name,
 * for `doorman config`.  Returns the count; names[] stays valid until
 * conf_free().
 */
size_t	conf_names(const struct conf *, const char ***names);

/* Where a name was defined: file and line ("default", 0 if not set). */
void	conf_origin(const struct conf *, const char *name, const char **file, int *line);
/*
 * An error about a whole file that parameter name refers to (a table
 * that cannot be opened): anchor it to the line that names the file,
 * "doorman.cf:7: screen_access_list: /x: cannot open file: ...".
 * Errors with a line of their own (inside a table) are left as they are.
 */
void	conf_err_anchor(const struct conf *, const char *name, struct conf_err *);

#endif
