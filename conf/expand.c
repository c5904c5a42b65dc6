/*
 * expand - main.cf's $name expansion.
 *
 * Forms (Postfix's mac_expand, reference §6.1): $name, ${name},
 * $(name), $$, ${name?value}, ${name?{value}}, ${name:value},
 * ${name:{value}}, ${name?{a}:{b}} (braces around b optional) and
 * ${{a} == {b} ? {x} : {y}} with == != < <= > >=.  A conditional tests
 * the looked-up text, unexpanded, for emptiness, as Postfix does; the
 * chosen text is expanded in turn.  Every cost is bounded: nesting
 * depth, number of lookups and result length, so that a hostile or
 * careless config cannot make start-up hang or eat memory.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/expand.h"

struct sbuf {
	char	*s;
	size_t	 len, cap;
};

struct xp {
	conf_lookup_fn	 lookup;
	void		*ctx;
	int		 flags;
	long		 steps;
	struct conf_err	*err;
};

static int expand(struct xp *, const char *, size_t, struct sbuf *, int);

static int
fail(struct xp *x, const char *fmt, ...)
{
	va_list ap;

	if (x->err != NULL) {
		va_start(ap, fmt);
		vsnprintf(x->err->reason, sizeof(x->err->reason), fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int
put(struct xp *x, struct sbuf *b, const char *s, size_t n)
{
	size_t cap;
	char *p;

	if (b == NULL)			/* scanning only */
		return 0;
	if (b->len + n >= EXPAND_MAX_LEN)
		return fail(x, "expansion result longer than %d bytes",
		    EXPAND_MAX_LEN);
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		if ((p = realloc(b->s, cap)) == NULL)
			return fail(x, "out of memory");
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

static int
is_name_char(int c)
{
	return isalnum((unsigned char)c) || c == '_';
}

static size_t
skip_ws(const char *s, size_t i, size_t n)
{
	while (i < n && isspace((unsigned char)s[i]))
		i++;
	return i;
}

/* Index of the close that matches the open just before s[i], or n. */
static size_t
match(const char *s, size_t i, size_t n, char open, char close)
{
	int level = 1;

	for (; i < n; i++) {
		if (s[i] == open)
			level++;
		else if (s[i] == close && --level == 0)
			return i;
	}
	return n;
}

/* A short quote of text for error messages. */
static const char *
quote(const char *s, size_t n, char *buf, size_t len)
{
	if (n > 60)
		snprintf(buf, len, "%.*s...", 60, s);
	else
		snprintf(buf, len, "%.*s", (int)n, s);
	return buf;
}

static int
expand_name(struct xp *x, const char *name, struct sbuf *out, int depth,
    const char **valp)
{
	const char *val;

	if (++x->steps > EXPAND_MAX_STEPS)
		return fail(x, "expansion too complex (more than %d lookups)",
		    EXPAND_MAX_STEPS);
	val = x->lookup(x->ctx, name);
	if (valp != NULL) {
		*valp = val;
		return 0;
	}
	if (val == NULL || *val == '\0')
		return 0;
	if (!(x->flags & EXPAND_RECURSE))
		return put(x, out, val, strlen(val));
	if (depth >= EXPAND_MAX_DEPTH)
		return fail(x, "recursion too deep while expanding parameter %s (more than %d levels)",
		    name, EXPAND_MAX_DEPTH);
	return expand(x, val, strlen(val), out, depth + 1);
}

/* Read "{...}" at s[*i]; on return *i is past the close brace. */
static int
braced(struct xp *x, const char *s, size_t *i, size_t n, size_t *start,
    size_t *len)
{
	char q[80];
	size_t close;

	close = match(s, *i + 1, n, '{', '}');
	if (close >= n)
		return fail(x, "unbalanced '{' in \"%s\"",
		    quote(s + *i, n - *i, q, sizeof(q)));
	*start = *i + 1;
	*len = close - *start;
	*i = close + 1;
	return 0;
}

static int
all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* ${{a} op {b} ? {x} : {y}} (Postfix >= 3.0); s/n is the inner text. */
static int
relational(struct xp *x, const char *s, size_t n, struct sbuf *out,
    int depth)
{
	static const char *ops[] = { "==", "!=", "<=", ">=", "<", ">" };
	struct sbuf a = { 0 }, b = { 0 };
	size_t i = 0, as, al, bs, bl, ts, tl, fs = 0, fl = 0, k;
	int op = -1, cmp, truth, have_false = 0, rc = -1;
	char q[80];

	if (braced(x, s, &i, n, &as, &al) < 0)
		return -1;
	i = skip_ws(s, i, n);
	for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
		if (n - i >= strlen(ops[k]) &&
		    strncmp(s + i, ops[k], strlen(ops[k])) == 0) {
			op = (int)k;
			i += strlen(ops[k]);
			break;
		}
	if (op < 0)
		return fail(x, "missing operator (== != < <= > >=) in \"${%s}\"",
		    quote(s, n, q, sizeof(q)));
	i = skip_ws(s, i, n);
	if (i >= n || s[i] != '{')
		return fail(x, "missing '{' after operator in \"${%s}\"",
		    quote(s, n, q, sizeof(q)));
	if (braced(x, s, &i, n, &bs, &bl) < 0)
		return -1;
	i = skip_ws(s, i, n);
	if (i >= n || s[i] != '?')
		return fail(x, "missing '?' in \"${%s}\"",
		    quote(s, n, q, sizeof(q)));
	i = skip_ws(s, i + 1, n);
	if (i >= n || s[i] != '{')
		return fail(x, "missing '{' after '?' in \"${%s}\"",
		    quote(s, n, q, sizeof(q)));
	if (braced(x, s, &i, n, &ts, &tl) < 0)
		return -1;
	i = skip_ws(s, i, n);
	if (i < n && s[i] == ':') {
		i = skip_ws(s, i + 1, n);
		if (i < n && s[i] == '{') {
			if (braced(x, s, &i, n, &fs, &fl) < 0)
				return -1;
			i = skip_ws(s, i, n);
		} else {
			fs = i;
			fl = n - i;
			i = n;
		}
		have_false = 1;
	}
	if (i < n)
		return fail(x, "unexpected text after conditional in \"${%s}\"",
		    quote(s, n, q, sizeof(q)));

	if (put(x, &a, "", 0) < 0 || put(x, &b, "", 0) < 0 ||
	    expand(x, s + as, al, &a, depth + 1) < 0 ||
	    expand(x, s + bs, bl, &b, depth + 1) < 0)
		goto out;
	if (a.s == NULL || b.s == NULL) {	/* scan mode */
		truth = 1;
		cmp = 0;
	} else if (all_digits(a.s) && all_digits(b.s)) {
		/* Numeric: compare lengths after leading zeros, then text. */
		const char *pa = a.s, *pb = b.s;

		while (*pa == '0' && pa[1])
			pa++;
		while (*pb == '0' && pb[1])
			pb++;
		if (strlen(pa) != strlen(pb))
			cmp = strlen(pa) < strlen(pb) ? -1 : 1;
		else
			cmp = strcmp(pa, pb);
	} else
		cmp = strcmp(a.s, b.s);
	switch (op) {
	case 0: truth = cmp == 0; break;
	case 1: truth = cmp != 0; break;
	case 2: truth = cmp <= 0; break;
	case 3: truth = cmp >= 0; break;
	case 4: truth = cmp < 0; break;
	default: truth = cmp > 0; break;
	}
	if (x->flags & EXPAND_SCAN) {
		if (expand(x, s + ts, tl, NULL, depth + 1) < 0 ||
		    (have_false && expand(x, s + fs, fl, NULL, depth + 1) < 0))
			goto out;
	}
	if (truth)
		rc = expand(x, s + ts, tl, out, depth + 1);
	else if (have_false)
		rc = expand(x, s + fs, fl, out, depth + 1);
	else
		rc = 0;
out:
	free(a.s);
	free(b.s);
	return rc;
}

/* The inside of ${...} or $(...): s/n, without the delimiters. */
static int
expand_macro(struct xp *x, const char *s, size_t n, struct sbuf *out,
    int depth)
{
	char name[256], q[80];
	const char *val = NULL;
	size_t i = 0, vs, vl, es = 0, el = 0;
	int op, cond, have_else = 0;

	if (n > 0 && s[0] == '{')
		return relational(x, s, n, out, depth);
	while (i < n && is_name_char(s[i]))
		i++;
	if (i == 0)
		return fail(x, "missing parameter name in \"${%s}\"",
		    quote(s, n, q, sizeof(q)));
	if (i >= sizeof(name))
		return fail(x, "parameter name too long in \"${%s}\"",
		    quote(s, n, q, sizeof(q)));
	memcpy(name, s, i);
	name[i] = '\0';
	if (i == n)
		return expand_name(x, name, out, depth, NULL);
	if (s[i] != '?' && s[i] != ':')
		return fail(x, "unexpected '%c' after parameter name %s in \"${%s}\"",
		    s[i], name, quote(s, n, q, sizeof(q)));
	op = s[i++];

	/* The value: "{v1}", "{v1}:{v2}", "{v1}:v2", or plain text. */
	vs = skip_ws(s, i, n);
	if (vs < n && s[vs] == '{') {
		size_t j = vs;

		if (braced(x, s, &j, n, &vs, &vl) < 0)
			return -1;
		j = skip_ws(s, j, n);
		if (j < n && op == '?' && s[j] == ':') {
			j = skip_ws(s, j + 1, n);
			if (j < n && s[j] == '{') {
				if (braced(x, s, &j, n, &es, &el) < 0)
					return -1;
				j = skip_ws(s, j, n);
			} else {
				es = j;
				el = n - j;
				j = n;
			}
			have_else = 1;
		}
		if (j < n)
			return fail(x, "unexpected text after \"{...}\" in \"${%s}\"",
			    quote(s, n, q, sizeof(q)));
	} else {
		vs = i;
		vl = n - i;
	}

	if (expand_name(x, name, NULL, depth, &val) < 0)
		return -1;
	cond = val != NULL && *val != '\0';
	if (op == ':')
		cond = !cond;
	if (x->flags & EXPAND_SCAN) {
		if (expand(x, s + vs, vl, NULL, depth + 1) < 0 ||
		    (have_else && expand(x, s + es, el, NULL, depth + 1) < 0))
			return -1;
	}
	if (depth >= EXPAND_MAX_DEPTH)
		return fail(x, "recursion too deep while expanding parameter %s (more than %d levels)",
		    name, EXPAND_MAX_DEPTH);
	if (cond)
		return expand(x, s + vs, vl, out, depth + 1);
	if (have_else)
		return expand(x, s + es, el, out, depth + 1);
	return 0;
}

static int
expand(struct xp *x, const char *s, size_t n, struct sbuf *out, int depth)
{
	char name[256], q[80];
	size_t i = 0, start, close;
	char open, shut;

	while (i < n) {
		start = i;
		while (i < n && s[i] != '$')
			i++;
		if (put(x, out, s + start, i - start) < 0)
			return -1;
		if (i >= n)
			break;
		/* s[i] == '$' */
		if (i + 1 >= n) {
			/* A lone trailing '$' stays as it is. */
			if (put(x, out, "$", 1) < 0)
				return -1;
			i++;
			continue;
		}
		if (s[i + 1] == '$') {
			if (put(x, out, "$", 1) < 0)
				return -1;
			i += 2;
			continue;
		}
		if (s[i + 1] == '{' || s[i + 1] == '(') {
			open = s[i + 1];
			shut = open == '{' ? '}' : ')';
			close = match(s, i + 2, n, open, shut);
			if (close >= n)
				return fail(x, "unbalanced '%c' in \"%s\"", open,
				    quote(s + i, n - i, q, sizeof(q)));
			if (expand_macro(x, s + i + 2, close - i - 2, out,
			    depth) < 0)
				return -1;
			i = close + 1;
			continue;
		}
		if (is_name_char(s[i + 1])) {
			start = ++i;
			while (i < n && is_name_char(s[i]))
				i++;
			if (i - start >= sizeof(name))
				return fail(x, "parameter name too long in \"%s\"",
				    quote(s + start - 1, n - start + 1, q,
				    sizeof(q)));
			memcpy(name, s + start, i - start);
			name[i - start] = '\0';
			if (expand_name(x, name, out, depth, NULL) < 0)
				return -1;
			continue;
		}
		/* "$" before anything else is literal text. */
		if (put(x, out, "$", 1) < 0)
			return -1;
		i++;
	}
	return 0;
}

char *
expand_text(const char *text, conf_lookup_fn lookup, void *ctx, int flags,
    struct conf_err *err)
{
	struct xp x = { lookup, ctx, flags, 0, err };
	struct sbuf out = { 0 };

	if (err != NULL) {
		err->file[0] = '\0';
		err->line = 0;
		err->reason[0] = '\0';
	}
	if (text == NULL)
		text = "";
	if (put(&x, &out, "", 0) < 0 ||
	    expand(&x, text, strlen(text), &out, 0) < 0) {
		free(out.s);
		return NULL;
	}
	return out.s;
}

char *
conf_expand_with(const char *text, conf_lookup_fn lookup, void *ctx,
    struct conf_err *err)
{
	return expand_text(text, lookup, ctx, 0, err);
}
