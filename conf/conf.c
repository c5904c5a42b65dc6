/*
 * conf - doorman's parameters: storage, main.cf parsing, -o overrides,
 * getters.
 *
 * One hash entry per name (known names are entered at conf_create()
 * with their defaults).  Expanded values and lists are cached per entry
 * and recomputed when any value changes; replaced strings are kept on a
 * retired list rather than freed, because the header promises that
 * what a getter returned stays valid until conf_free().  Type checks
 * live in conf/validate.c, expansion in conf/expand.c.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#include "conf/conf.h"
#include "conf/conf_int.h"
#include "conf/expand.h"
#include "conf/lines.h"
#include "conf/log.h"

static void
oom(void)
{
	msg_fatal("conf: out of memory");
}

static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom();
	return p;
}

static char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		oom();
	return p;
}

/* Keep p until conf_free(): callers may still hold it. */
void
conf_retire(struct conf *c, void *p)
{
	void **n;

	if (p == NULL)
		return;
	if (c->nretired == c->capretired) {
		c->capretired = c->capretired ? 2 * c->capretired : 16;
		if ((n = realloc(c->retired, c->capretired * sizeof(*n))) == NULL)
			oom();
		c->retired = n;
	}
	c->retired[c->nretired++] = p;
}

const char *
conf_canonical_name(const char *name, char *buf, size_t len)
{
	static const char *aliases[][2] = {
		{ "screen_dnsbl_whitelist_threshold",
		    "screen_dnsbl_allowlist_threshold" },
		{ "screen_whitelist_interfaces", "screen_allowlist_interfaces" },
	};
	size_t i;
	int n;

	if (name == NULL || buf == NULL || len == 0)
		return name;
	if (strncmp(name, "postscreen_", 11) == 0)
		n = snprintf(buf, len, "screen_%s", name + 11);
	else
		n = snprintf(buf, len, "%s", name);
	if (n < 0 || (size_t)n >= len)
		return name;
	for (i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strcmp(buf, aliases[i][0]) == 0) {
			snprintf(buf, len, "%s", aliases[i][1]);
			break;
		}
	return buf;
}

struct conf_entry *
conf_entry_find(const struct conf *c, const char *name)
{
	char buf[CONF_NAME_MAX + 16];
	struct conf_entry *e;
	const char *canon;

	if (name == NULL)
		return NULL;
	canon = conf_canonical_name(name, buf, sizeof(buf));
	HASH_FIND_STR(c->map, canon, e);
	return e;
}

static struct conf_entry *
entry_get(struct conf *c, const char *canon)
{
	struct conf_entry *e;

	HASH_FIND_STR(c->map, canon, e);
	if (e != NULL)
		return e;
	e = xmalloc(sizeof(*e));
	memset(e, 0, sizeof(*e));
	e->name = xstrdup(canon);
	e->param = params_find(canon);
	HASH_ADD_KEYPTR(hh, c->map, e->name, strlen(e->name), e);
	return e;
}

struct conf *
conf_create(void)
{
	const struct conf_param *p;
	struct conf *c;
	size_t i, n;

	c = xmalloc(sizeof(*c));
	memset(c, 0, sizeof(*c));
	c->gen = 1;
	p = params_all(&n);
	for (i = 0; i < n; i++)
		entry_get(c, p[i].name);
	return c;
}

void
conf_free(struct conf *c)
{
	struct conf_entry *e, *tmp;
	size_t i;

	if (c == NULL)
		return;
	HASH_ITER(hh, c->map, e, tmp) {
		HASH_DEL(c->map, e);
		free(e->name);
		free(e->value);
		free(e->file);
		free(e->exp);
		free(e->list);
		free(e);
	}
	for (i = 0; i < c->nretired; i++)
		free(c->retired[i]);
	free(c->retired);
	free(c->names);
	free(c);
}

static int
valid_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > CONF_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return 0;
	return 1;
}

/* Store a definition; an override is never replaced by the file. */
static void
define(struct conf *c, const char *name, const char *value, const char *file,
    int line, int override)
{
	char buf[CONF_NAME_MAX + 16];
	struct conf_entry *e;

	e = entry_get(c, conf_canonical_name(name, buf, sizeof(buf)));
	if (e->set == CONF_SET_OVERRIDE && !override)
		return;
	conf_retire(c, e->value);
	free(e->file);
	e->value = xstrdup(value);
	e->file = xstrdup(file);
	e->line = line;
	e->set = override ? CONF_SET_OVERRIDE : CONF_SET_FILE;
	c->gen++;
}

static char *
trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/*
 * Split "name = value"; returns -1 with a reason when the text is not
 * an assignment.  s is modified.
 */
static int
split_assignment(char *s, char **name, char **value, char *why, size_t len)
{
	char *eq, *n;
	size_t k;

	if ((eq = strchr(s, '=')) == NULL) {
		k = strcspn(s, " \t");
		snprintf(why, len, "missing '=' after parameter name: \"%.*s\"",
		    (int)(k > 200 ? 200 : k), s);
		return -1;
	}
	*eq = '\0';
	n = trim(s);
	if (*n == '\0') {
		snprintf(why, len, "missing parameter name before '='");
		return -1;
	}
	if (!valid_name(n, strlen(n))) {
		k = strlen(n);
		if (strcspn(n, " \t") < k)
			snprintf(why, len,
			    "missing '=' after parameter name: \"%.*s\"",
			    (int)strcspn(n, " \t"), n);
		else
			snprintf(why, len,
			    "bad parameter name: \"%.*s\" (use letters, digits and _)",
			    (int)(k > 200 ? 200 : k), n);
		return -1;
	}
	*name = n;
	*value = trim(eq + 1);
	return 0;
}

int
conf_read_file(struct conf *c, const char *path, struct conf_err *err)
{
	struct lines *l;
	const char *text;
	char *copy, *name, *value, why[300];
	int lineno, rc;

	if ((l = lines_open(path, "parameter", err)) == NULL)
		return -1;
	while ((rc = lines_next(l, &text, &lineno, err)) > 0) {
		copy = xstrdup(text);
		if (split_assignment(copy, &name, &value, why,
		    sizeof(why)) < 0) {
			free(copy);
			lines_close(l);
			return conf_err_set(err, path, lineno, "%s", why);
		}
		define(c, name, value, path, lineno, 0);
		free(copy);
	}
	lines_close(l);
	return rc < 0 ? -1 : 0;
}

int
conf_override(struct conf *c, const char *assignment, struct conf_err *err)
{
	char *copy, *s, *name, *value, why[300];
	size_t n;

	copy = xstrdup(assignment ? assignment : "");
	s = trim(copy);
	/* Postfix >= 3.0: -o { name = value with spaces } */
	n = strlen(s);
	if (n >= 2 && s[0] == '{' && s[n - 1] == '}') {
		s[n - 1] = '\0';
		s = trim(s + 1);
	}
	if (split_assignment(s, &name, &value, why, sizeof(why)) < 0) {
		free(copy);
		return conf_err_set(err, CONF_CMDLINE, 0, "%s", why);
	}
	define(c, name, value, CONF_CMDLINE, 0, 1);
	free(copy);
	return 0;
}

void
conf_set(struct conf *c, const char *name, const char *value)
{
	define(c, name, value ? value : "", CONF_CMDLINE, 0, 1);
}

const char *
conf_raw(const struct conf *c, const char *name)
{
	struct conf_entry *e = conf_entry_find(c, name);

	if (e == NULL)
		return NULL;
	if (e->set)
		return e->value;
	if (e->param != NULL)
		return params_default(e->param);
	return NULL;
}

int
conf_is_set(const struct conf *c, const char *name)
{
	struct conf_entry *e = conf_entry_find(c, name);

	return e != NULL && e->set;
}

const char *
conf_default(const char *name)
{
	char buf[CONF_NAME_MAX + 16];
	const struct conf_param *p;

	if (name == NULL)
		return NULL;
	p = params_find(conf_canonical_name(name, buf, sizeof(buf)));
	return p ? params_default(p) : NULL;
}

void
conf_origin(const struct conf *c, const char *name, const char **file,
    int *line)
{
	struct conf_entry *e = conf_entry_find(c, name);

	if (e != NULL && e->set) {
		*file = e->file;
		*line = e->line;
	} else {
		*file = CONF_DEFAULT_ORIGIN;
		*line = 0;
	}
}

void
conf_err_anchor(const struct conf *c, const char *name, struct conf_err *err)
{
	char	reason[sizeof(err->reason) + sizeof(err->file) + 128];
	const char *file;
	int	line;

	conf_origin(c, name, &file, &line);
	if (err->line > 0 || line == 0)
		return;
	if (err->file[0] != '\0')
		snprintf(reason, sizeof(reason), "%s: %s: %s", name, err->file,
		    err->reason);
	else
		snprintf(reason, sizeof(reason), "%s: %s", name, err->reason);
	/* Cut to fit: the start says where and what. */
	reason[sizeof(err->reason) - 1] = '\0';
	memcpy(err->reason, reason, strlen(reason) + 1);
	if (strlen(file) >= sizeof(err->file))
		return;
	memcpy(err->file, file, strlen(file) + 1);
	err->line = line;
}

static const char *
lookup_conf(void *ctx, const char *name)
{
	struct conf_lookup_ctx *lc = ctx;
	struct conf_entry *e = conf_entry_find(lc->conf, name);

	if (e == NULL)
		return NULL;
	if (lc->mark)
		e->referenced = 1;
	if (e->set)
		return e->value;
	return e->param ? params_default(e->param) : NULL;
}

char *
conf_expand_flags(const struct conf *c, const char *text, int flags,
    struct conf_err *err)
{
	struct conf_lookup_ctx lc = { (struct conf *)c, 0 };

	if (flags & EXPAND_SCAN)
		lc.mark = 1;
	return expand_text(text, lookup_conf, &lc, flags | EXPAND_RECURSE,
	    err);
}

char *
conf_expand(const struct conf *c, const char *text, struct conf_err *err)
{
	return conf_expand_flags(c, text, 0, err);
}

char *
conf_err_format(const struct conf_err *err, char *buf, size_t len)
{
	if (err->file[0] == '\0')
		snprintf(buf, len, "%s", err->reason);
	else if (err->line > 0)
		snprintf(buf, len, "%s:%d: %s", err->file, err->line,
		    err->reason);
	else
		snprintf(buf, len, "%s: %s", err->file, err->reason);
	return buf;
}

const char *
conf_str(struct conf *c, const char *name)
{
	struct conf_entry *e = conf_entry_find(c, name);
	struct conf_err err;
	char *v;

	if (e == NULL)
		return "";
	if (e->param != NULL && (e->param->flags & PARAM_RAW))
		return conf_raw(c, name);
	if (e->exp != NULL && e->exp_gen == c->gen)
		return e->exp;
	if ((v = conf_expand(c, conf_raw(c, name), &err)) == NULL) {
		/* conf_validate() has reported it; do not crash a getter. */
		msg_warn("parameter %s: %s", e->name, err.reason);
		v = xstrdup("");
	}
	conf_retire(c, e->exp);
	e->exp = v;
	e->exp_gen = c->gen;
	return v;
}

static char
unit_of(const struct conf_entry *e)
{
	return e != NULL && e->param != NULL && e->param->unit ?
	    e->param->unit : 's';
}

long
conf_time(struct conf *c, const char *name)
{
	long v = conf_parse_time(conf_str(c, name),
	    unit_of(conf_entry_find(c, name)));

	return v < 0 ? 0 : v;
}

long
conf_int(struct conf *c, const char *name)
{
	long v;

	if (conf_parse_int(conf_str(c, name), &v) < 0)
		return 0;
	return v;
}

int
conf_bool(struct conf *c, const char *name)
{
	return strcasecmp(conf_str(c, name), "yes") == 0;
}

char **
conf_list(struct conf *c, const char *name)
{
	static char *empty[1] = { NULL };
	struct conf_entry *e = conf_entry_find(c, name);
	const char *v;
	char **l;

	if (e == NULL)
		return empty;
	v = conf_str(c, name);
	if (e->list != NULL && e->list_gen == c->gen)
		return e->list;
	if ((l = conf_split_list(v)) == NULL)
		oom();
	conf_retire(c, e->list);
	e->list = l;
	e->list_gen = c->gen;
	return l;
}

/*
 * Items are separated by commas and/or white space; a {...} group is
 * kept whole (inline:{...} tables), and an item that is a group as a
 * whole loses its outer braces ("{ text with spaces }", as Postfix).
 * One allocation holds the vector and the strings: free() releases it.
 */
char **
conf_split_list(const char *text)
{
	size_t n = 0, len, i, start, count = 0, off;
	const char *s = text ? text : "";
	char **v, *store;
	int level;

	len = strlen(s);
	/* Upper bound on items: every other byte. */
	for (i = 0; i < len; i++)
		if (s[i] == ',' || isspace((unsigned char)s[i]))
			n++;
	n += 2;
	v = malloc(n * sizeof(char *) + len + n);
	if (v == NULL)
		return NULL;
	store = (char *)(v + n);
	off = 0;
	i = 0;
	while (i < len) {
		while (i < len && (s[i] == ',' || isspace((unsigned char)s[i])))
			i++;
		if (i >= len)
			break;
		start = i;
		level = 0;
		while (i < len) {
			if (s[i] == '{')
				level++;
			else if (s[i] == '}' && level > 0)
				level--;
			else if (level == 0 &&
			    (s[i] == ',' || isspace((unsigned char)s[i])))
				break;
			i++;
		}
		{
			size_t a = start, b = i;

			if (b - a >= 2 && s[a] == '{' && s[b - 1] == '}' &&
			    level == 0) {
				a++;
				b--;
				while (a < b && isspace((unsigned char)s[a]))
					a++;
				while (b > a && isspace((unsigned char)s[b - 1]))
					b--;
			}
			v[count++] = store + off;
			memcpy(store + off, s + a, b - a);
			off += b - a;
			store[off++] = '\0';
		}
	}
	v[count] = NULL;
	return v;
}

void
conf_free_list(char **l)
{
	free(l);
}

int
conf_parse_int(const char *s, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

long
conf_parse_time(const char *text, char default_unit)
{
	long v = 0, mult;
	const char *s = text;
	char unit;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		if (v > (LONG_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	unit = *s ? *s++ : default_unit;
	if (*s != '\0')
		return -1;
	switch (unit) {
	case 's': mult = 1; break;
	case 'm': mult = 60; break;
	case 'h': mult = 3600; break;
	case 'd': mult = 86400; break;
	case 'w': mult = 604800; break;
	default: return -1;
	}
	if (v > LONG_MAX / mult)
		return -1;
	return v * mult;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

size_t
conf_names(const struct conf *cc, const char ***names)
{
	struct conf *c = (struct conf *)cc;
	struct conf_entry *e, *tmp;
	const char **v;
	size_t n = 0;

	v = xmalloc((HASH_COUNT(c->map) + 1) * sizeof(*v));
	HASH_ITER(hh, c->map, e, tmp) {
		if (e->param != NULL || e->set)
			v[n++] = e->name;
	}
	v[n] = NULL;
	qsort(v, n, sizeof(*v), cmp_names);
	conf_retire(c, c->names);
	c->names = v;
	*names = v;
	return n;
}
