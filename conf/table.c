/*
 * table - Postfix-style lookup tables, read once at start-up.
 *
 * Three shapes cover every type: a hash of lower-cased keys (texthash:,
 * inline:, and hash:/btree:/lmdb:/cdb: read from the text file postmap
 * would compile, so admins can paste Postfix settings without running
 * postmap for us), an ordered list of networks (cidr:, first match
 * wins) and a single value (static:).  Files go through conf/lines.c,
 * so lengths are bounded and errors carry file and line.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uthash.h>

#include "conf/addr.h"
#include "conf/lines.h"
#include "conf/log.h"
#include "conf/table.h"

#define KEY_MAX	1024		/* longer lookup keys never match */

enum table_kind { TK_HASH, TK_CIDR, TK_STATIC };

struct kv {
	char		*key;		/* lower case */
	char		*value;
	UT_hash_handle	 hh;
};

struct cidr_rule {
	struct cidr	 net;
	int		 negate;
	char		*value;
};

struct table {
	char		*name;
	enum table_kind	 kind;
	struct kv	*map;
	struct cidr_rule *rules;
	size_t		 nrules, caprules;
	char		*value;		/* static: */
};

/* Types read as a hash of keys from a file. */
static const char *postmap_types[] = { "hash", "btree", "lmdb", "cdb" };

int
table_type_known(const char *type)
{
	size_t i;

	if (strcmp(type, "texthash") == 0 || strcmp(type, "cidr") == 0 ||
	    strcmp(type, "inline") == 0 || strcmp(type, "static") == 0 ||
	    strcmp(type, "proxy") == 0)
		return 1;
	for (i = 0; i < sizeof(postmap_types) / sizeof(postmap_types[0]); i++)
		if (strcmp(type, postmap_types[i]) == 0)
			return 1;
	return 0;
}

const char *
table_name(const struct table *t)
{
	return t->name;
}

void
table_close(struct table *t)
{
	struct kv *e, *tmp;
	size_t i;

	if (t == NULL)
		return;
	HASH_ITER(hh, t->map, e, tmp) {
		HASH_DEL(t->map, e);
		free(e->key);
		free(e->value);
		free(e);
	}
	for (i = 0; i < t->nrules; i++)
		free(t->rules[i].value);
	free(t->rules);
	free(t->value);
	free(t->name);
	free(t);
}

static void
lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
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

/* Add key/value; a duplicate keeps the first, as postmap does. */
static int
add_kv(struct table *t, const char *key, const char *value,
    const char *file, int line, struct conf_err *err)
{
	struct kv *e;
	char *k;

	if ((k = strdup(key)) == NULL)
		return conf_err_set(err, file, line, "out of memory");
	lower(k);
	HASH_FIND_STR(t->map, k, e);
	if (e != NULL) {
		if (line > 0)
			msg_warn("%s:%d: duplicate entry: \"%s\"", file,
			    line, k);
		else
			msg_warn("%s: duplicate entry: \"%s\"", file, k);
		free(k);
		return 0;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    (e->value = strdup(value)) == NULL) {
		free(e);
		free(k);
		return conf_err_set(err, file, line, "out of memory");
	}
	e->key = k;
	HASH_ADD_KEYPTR(hh, t->map, e->key, strlen(e->key), e);
	return 0;
}

/* "pattern result" (pattern may start with '!'). */
static int
add_rule(struct table *t, char *text, const char *file, int line,
    struct conf_err *err)
{
	struct cidr_rule *r;
	const char *why;
	char *pat, *val;
	size_t n;
	int neg = 0;

	pat = trim(text);
	n = strcspn(pat, " \t");
	if (pat[n] == '\0')
		return conf_err_set(err, file, line,
		    "no lookup result after \"%s\" (expected: network result)",
		    pat);
	pat[n] = '\0';
	val = trim(pat + n + 1);
	if (*pat == '!') {
		neg = 1;
		pat++;
	}
	if (t->nrules == t->caprules) {
		n = t->caprules ? 2 * t->caprules : 8;
		if ((r = realloc(t->rules, n * sizeof(*r))) == NULL)
			return conf_err_set(err, file, line, "out of memory");
		t->rules = r;
		t->caprules = n;
	}
	r = &t->rules[t->nrules];
	if (cidr_parse(pat, &r->net, &why) < 0)
		return conf_err_set(err, file, line, "%s: \"%s\"", why, pat);
	r->negate = neg;
	if ((r->value = strdup(val)) == NULL)
		return conf_err_set(err, file, line, "out of memory");
	t->nrules++;
	return 0;
}

/* "key value" (texthash). */
static int
add_line(struct table *t, char *text, const char *file, int line,
    struct conf_err *err)
{
	char *key, *val;
	size_t n;

	key = trim(text);
	n = strcspn(key, " \t");
	if (key[n] == '\0')
		return conf_err_set(err, file, line,
		    "no lookup result after \"%s\" (expected: key whitespace value)",
		    key);
	key[n] = '\0';
	val = trim(key + n + 1);
	return add_kv(t, key, val, file, line, err);
}

/*
 * "hash:/etc/postfix/x: reading the postmap source file ..." once per
 * table and log destination: start-up opens each table several times
 * (both stress flavours, the reply maps, the checks).
 */
struct announced {
	UT_hash_handle hh;
	char	spec[];
};

static void
postmap_announce(const char *spec, const char *path)
{
	static struct announced *seen;
	static unsigned gen;
	struct announced *a, *tmp;
	size_t	len = strlen(spec);

	if (gen != log_generation()) {
		HASH_ITER(hh, seen, a, tmp) {
			HASH_DEL(seen, a);
			free(a);
		}
		gen = log_generation();
	}
	HASH_FIND(hh, seen, spec, len, a);
	if (a != NULL)
		return;
	msg_info("%s: reading the postmap source file %s as texthash", spec, path);
	if ((a = malloc(sizeof(*a) + len + 1)) == NULL)
		return;
	memcpy(a->spec, spec, len + 1);
	HASH_ADD_KEYPTR(hh, seen, a->spec, len, a);
}

static int
load_file(struct table *t, const char *path, struct conf_err *err)
{
	struct lines *l;
	const char *text;
	char *copy;
	int lineno, rc;

	if ((l = lines_open(path, "entry", err)) == NULL)
		return -1;
	while ((rc = lines_next(l, &text, &lineno, err)) > 0) {
		if ((copy = strdup(text)) == NULL) {
			rc = conf_err_set(err, path, lineno, "out of memory");
			break;
		}
		if (t->kind == TK_CIDR)
			rc = add_rule(t, copy, path, lineno, err);
		else
			rc = add_line(t, copy, path, lineno, err);
		free(copy);
		if (rc < 0)
			break;
	}
	lines_close(l);
	return rc < 0 ? -1 : 0;
}

/* The '{' at body[0] closes at body[n - 1], not before. */
static int
balanced(const char *body, size_t n)
{
	size_t i;
	int level = 0;

	for (i = 0; i < n; i++) {
		if (body[i] == '{')
			level++;
		else if (body[i] == '}' && --level == 0)
			return i == n - 1;
	}
	return 0;
}

/* inline:{...} and cidr:{...}: items of a braced list. */
static int
load_inline(struct table *t, const char *spec, const char *body,
    struct conf_err *err)
{
	char **items, *copy, *eq;
	size_t n, i;
	int rc = 0;

	n = strlen(body);
	if (n < 2 || body[0] != '{' || body[n - 1] != '}' ||
	    !balanced(body, n))
		return conf_err_set(err, "", 0,
		    "%s: expected {...} after the table type", spec);
	if ((copy = strndup(body + 1, n - 2)) == NULL)
		return conf_err_set(err, "", 0, "out of memory");
	if ((items = conf_split_list(copy)) == NULL) {
		free(copy);
		return conf_err_set(err, "", 0, "out of memory");
	}
	free(copy);
	for (i = 0; items[i] != NULL && rc == 0; i++) {
		if (t->kind == TK_CIDR) {
			rc = add_rule(t, items[i], spec, 0, err);
			continue;
		}
		if ((eq = strchr(items[i], '=')) == NULL) {
			rc = conf_err_set(err, "", 0,
			    "%s: missing '=' in \"%s\" (use {key=value} or {key = value})",
			    spec, items[i]);
			continue;
		}
		*eq = '\0';
		if (*trim(items[i]) == '\0') {
			rc = conf_err_set(err, "", 0,
			    "%s: missing key before '='", spec);
			continue;
		}
		rc = add_kv(t, trim(items[i]), trim(eq + 1), spec, 0, err);
	}
	conf_free_list(items);
	return rc;
}

struct table *
table_open(const char *spec, struct conf_err *err)
{
	struct table *t;
	const char *colon, *name, *type_end;
	char type[32];
	size_t n, i;
	int rc = -1, postmap = 0;

	if (err != NULL)
		memset(err, 0, sizeof(*err));
	if (spec == NULL || (colon = strchr(spec, ':')) == NULL ||
	    colon == spec) {
		conf_err_set(err, "", 0, "bad table \"%s\": expected type:name",
		    spec ? spec : "");
		return NULL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->name = strdup(spec)) == NULL) {
		free(t);
		conf_err_set(err, "", 0, "out of memory");
		return NULL;
	}
	/* proxy:type:name reads type:name directly: we are not chrooted. */
	if (strncmp(spec, "proxy:", 6) == 0 && strchr(spec + 6, ':') != NULL) {
		spec += 6;
		colon = strchr(spec, ':');
	}
	type_end = colon;
	name = colon + 1;
	n = (size_t)(type_end - spec);
	if (n >= sizeof(type))
		n = sizeof(type) - 1;
	memcpy(type, spec, n);
	type[n] = '\0';

	for (i = 0; i < sizeof(postmap_types) / sizeof(postmap_types[0]); i++)
		if (strcmp(type, postmap_types[i]) == 0)
			postmap = 1;
	if (strcmp(type, "static") == 0) {
		t->kind = TK_STATIC;
		n = strlen(name);
		if (n >= 2 && name[0] == '{' && name[n - 1] == '}') {
			if ((t->value = strndup(name + 1, n - 2)) != NULL) {
				char *v = trim(t->value);

				memmove(t->value, v, strlen(v) + 1);
			}
		} else
			t->value = strdup(name);
		rc = t->value ? 0 :
		    conf_err_set(err, "", 0, "out of memory");
	} else if (strcmp(type, "cidr") == 0) {
		t->kind = TK_CIDR;
		if (name[0] == '{')
			rc = load_inline(t, t->name, name, err);
		else if (name[0] == '\0')
			rc = conf_err_set(err, "", 0,
			    "bad table \"%s\": missing file name", t->name);
		else
			rc = load_file(t, name, err);
	} else if (strcmp(type, "inline") == 0) {
		t->kind = TK_HASH;
		rc = load_inline(t, t->name, name, err);
	} else if (strcmp(type, "texthash") == 0 || postmap) {
		t->kind = TK_HASH;
		if (name[0] == '\0')
			rc = conf_err_set(err, "", 0,
			    "bad table \"%s\": missing file name", t->name);
		else {
			if (postmap && access(name, R_OK) != 0)
				rc = conf_err_set(err, name, 0,
				    "cannot read the postmap source file of %s: %s (doorman reads the text file, not the compiled map)",
				    t->name, strerror(errno));
			else {
				if (postmap)
					postmap_announce(t->name, name);
				rc = load_file(t, name, err);
			}
		}
	} else
		rc = conf_err_set(err, "", 0,
		    "unsupported table type \"%s\" in \"%s\" (use texthash, cidr, inline, static, hash, btree, lmdb or cdb)",
		    type, t->name);
	if (rc < 0) {
		table_close(t);
		return NULL;
	}
	return t;
}

int
table_lookup(const struct table *t, const char *key, const char **value)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char buf[KEY_MAX + 1];
	struct kv *e;
	size_t i, n;
	int m;

	if (t == NULL || key == NULL)
		return 0;
	switch (t->kind) {
	case TK_STATIC:
		*value = t->value;
		return 1;
	case TK_CIDR:
		if (addr_parse_ip(key, &ss, &sl) != 0)
			return 0;
		for (i = 0; i < t->nrules; i++) {
			m = cidr_match(&t->rules[i].net, (struct sockaddr *)&ss);
			/* A rule of the other family never applies. */
			if (!m && t->rules[i].negate) {
				int fam = ss.ss_family;

				if (fam == AF_INET6 && IN6_IS_ADDR_V4MAPPED(
				    &((struct sockaddr_in6 *)&ss)->sin6_addr))
					fam = AF_INET;
				if (fam != t->rules[i].net.family)
					continue;
			}
			if (m != t->rules[i].negate) {
				*value = t->rules[i].value;
				return 1;
			}
		}
		return 0;
	default:
		n = strlen(key);
		if (n > KEY_MAX)
			return 0;
		memcpy(buf, key, n + 1);
		lower(buf);
		HASH_FIND_STR(t->map, buf, e);
		if (e == NULL)
			return 0;
		*value = e->value;
		return 1;
	}
}

size_t
table_size(const struct table *t)
{
	if (t == NULL)
		return 0;
	switch (t->kind) {
	case TK_STATIC:
		return 1;
	case TK_CIDR:
		return t->nrules;
	default:
		return HASH_COUNT(t->map);
	}
}
