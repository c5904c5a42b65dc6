/*
 * validate - conf_validate(): every known parameter's expanded value
 * against its type, minimum and allowed words, once at start-up, so
 * that the getters never have to fail later.  A bad value is reported
 * where the admin wrote it (file and line, "command line" for -o, or
 * "default").  Names nobody knows are only warned about, as postconf
 * does, unless another parameter refers to them with $name.
 */
#include <sys/un.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/addr.h"
#include "conf/conf_int.h"
#include "conf/expand.h"
#include "conf/lines.h"
#include "conf/log.h"
#include "conf/table.h"

/* Fill why with the reason a value is bad; 0 when it is fine. */
typedef int (*check_fn)(const struct conf_param *, const char *, char *,
    size_t);

static int
check_time(const struct conf_param *p, const char *v, char *why, size_t len)
{
	long t, m;

	if (*v == '\0' && (p->flags & PARAM_EMPTY_OK))
		return 0;
	if ((t = conf_parse_time(v, p->unit ? p->unit : 's')) < 0) {
		snprintf(why, len, "bad time value for parameter %s: \"%s\"",
		    p->name, v);
		return -1;
	}
	if (t < p->min) {
		m = p->min;
		snprintf(why, len,
		    "bad time value for parameter %s: \"%s\" (minimum %lds)",
		    p->name, v, m);
		return -1;
	}
	return 0;
}

static int
check_int(const struct conf_param *p, const char *v, char *why, size_t len)
{
	long n;

	if (*v == '\0' && (p->flags & PARAM_EMPTY_OK))
		return 0;
	if (conf_parse_int(v, &n) < 0) {
		snprintf(why, len, "bad integer value for parameter %s: \"%s\"",
		    p->name, v);
		return -1;
	}
	if (n < p->min) {
		snprintf(why, len,
		    "bad integer value for parameter %s: \"%s\" (minimum %ld)",
		    p->name, v, p->min);
		return -1;
	}
	return 0;
}

static int
check_bool(const struct conf_param *p, const char *v, char *why, size_t len)
{
	if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "no") == 0)
		return 0;
	snprintf(why, len,
	    "bad boolean value for parameter %s: \"%s\" (use yes or no)",
	    p->name, v);
	return -1;
}

/* "type:name" with a type in allowed ("a|b|c") or one table_open knows. */
static int
check_table_spec(const char *spec, const char *allowed, const char **whyp)
{
	char type[64];
	const char *colon = strchr(spec, ':'), *a, *bar;
	size_t n;

	if (colon == NULL || colon == spec) {
		*whyp = "expected type:name";
		return -1;
	}
	n = (size_t)(colon - spec);
	if (n >= sizeof(type)) {
		*whyp = "unknown table type";
		return -1;
	}
	memcpy(type, spec, n);
	type[n] = '\0';
	if (allowed == NULL) {
		if (!table_type_known(type)) {
			*whyp = "unsupported table type (use texthash, cidr, inline, static, hash, btree, lmdb or cdb)";
			return -1;
		}
		return 0;
	}
	for (a = allowed; *a; a = *bar ? bar + 1 : bar) {
		bar = a + strcspn(a, "|");
		if ((size_t)(bar - a) == n && strncmp(a, type, n) == 0)
			return 0;
	}
	*whyp = "unsupported table type";
	return -1;
}

/* "cidr:/x" but not "fe80::/10": the part before ':' is a table type. */
static int
looks_like_table(const char *v)
{
	char type[32];
	size_t n = strcspn(v, ":");

	if (v[n] != ':' || n == 0 || n >= sizeof(type))
		return 0;
	memcpy(type, v, n);
	type[n] = '\0';
	return table_type_known(type);
}

static int
check_table(const struct conf_param *p, const char *v, char *why, size_t len)
{
	const char *w;

	if (*v == '\0')
		return 0;
	if (check_table_spec(v, p->allowed, &w) < 0) {
		snprintf(why, len, "bad table for parameter %s: \"%s\": %s",
		    p->name, v, w);
		return -1;
	}
	return 0;
}

static int
word_in(const char *w, const char *allowed)
{
	const char *a, *bar;
	size_t n = strlen(w);

	for (a = allowed; *a; a = *bar ? bar + 1 : bar) {
		bar = a + strcspn(a, "|");
		if ((size_t)(bar - a) == n && strncmp(a, w, n) == 0)
			return 1;
	}
	return 0;
}

static int
check_item(const struct conf_param *p, const char *v, char *why, size_t len)
{
	struct endpoint ep;
	struct cidr cidr;
	struct sockaddr_storage ss;
	socklen_t sl;
	const char *w;

	switch (p->check) {
	case CHK_ENUM:
		if (word_in(v, p->allowed))
			return 0;
		snprintf(why, len,
		    "bad value for parameter %s: \"%s\" (allowed: %s%s)",
		    p->name, v, p->allowed,
		    p->flags & PARAM_EMPTY_OK ? ", or empty" : "");
		return -1;
	case CHK_ACTION:
		if (word_in(v, "ignore|enforce|drop|continue"))
			return 0;
		snprintf(why, len,
		    "bad action for parameter %s: \"%s\" (allowed: ignore, enforce, drop)",
		    p->name, v);
		return -1;
	case CHK_ENDPOINT:
	case CHK_ENDPOINT_LIST:
		if (addr_parse_endpoint(v, &ep, &w) == 0)
			return 0;
		snprintf(why, len, "bad address for parameter %s: \"%s\": %s",
		    p->name, v, w);
		return -1;
	case CHK_DNS_SERVERS:
		if (addr_parse_ip(v, &ss, &sl) == 0 ||
		    (addr_parse_endpoint(v, &ep, &w) == 0 &&
		    ep.sa.ss_family != AF_UNIX))
			return 0;
		snprintf(why, len,
		    "bad address for parameter %s: \"%s\" (use ip, ip:port or [ip6]:port)",
		    p->name, v);
		return -1;
	case CHK_NETWORKS:
		if (cidr_parse(v, &cidr, &w) == 0)
			return 0;
		if (looks_like_table(v) && check_table_spec(v, NULL, &w) == 0)
			return 0;
		snprintf(why, len, "bad network for parameter %s: \"%s\": %s",
		    p->name, v, w);
		return -1;
	case CHK_ACCESS:
		if (word_in(v, "permit_mynetworks|permit|reject|dunno"))
			return 0;
		if (strchr(v, ':') != NULL && check_table_spec(v, NULL, &w) == 0)
			return 0;
		snprintf(why, len,
		    "bad access list item for parameter %s: \"%s\" (use permit_mynetworks, permit, reject, dunno or type:table)",
		    p->name, v);
		return -1;
	default:
		return 0;
	}
}

static int
check_value(const struct conf_param *p, const char *v, char *why, size_t len)
{
	char **items;
	size_t i;
	int rc = 0;

	switch (p->type) {
	case CONF_TIME:
		return check_time(p, v, why, len);
	case CONF_INT:
		return check_int(p, v, why, len);
	case CONF_BOOL:
		return check_bool(p, v, why, len);
	case CONF_TABLE:
		return check_table(p, v, why, len);
	case CONF_LIST:
		if (p->check == CHK_NONE)
			return 0;
		if ((items = conf_split_list(v)) == NULL) {
			snprintf(why, len, "out of memory");
			return -1;
		}
		for (i = 0; items[i] != NULL && rc == 0; i++)
			rc = check_item(p, items[i], why, len);
		conf_free_list(items);
		return rc;
	default:
		if (p->check == CHK_NONE)
			return 0;
		if (*v == '\0' && (p->flags & PARAM_EMPTY_OK))
			return 0;
		return check_item(p, v, why, len);
	}
}

static const char *
null_lookup(void *ctx, const char *name)
{
	(void)ctx;
	(void)name;
	return NULL;
}

/* Record the names that any value refers to, in every branch. */
static void
mark_references(struct conf *c, const char **names, size_t n)
{
	struct conf_err err;
	const char *raw;
	size_t i;

	for (i = 0; i < n; i++) {
		if ((raw = conf_raw(c, names[i])) != NULL)
			free(conf_expand_flags(c, raw, EXPAND_SCAN, &err));
	}
}

/*
 * DESIGN §10: the control socket $data_directory/doorman.ctl must fit in
 * a sockaddr_un, or `doorman status` could never reach the daemon.
 */
static int
check_control_socket(struct conf *c, struct conf_err *err)
{
	struct sockaddr_un sun;
	const char *dir = conf_str(c, "data_directory"), *file;
	int line;

	if (strlen(dir) + sizeof("/doorman.ctl") > sizeof(sun.sun_path)) {
		conf_origin(c, "data_directory", &file, &line);
		return conf_err_set(err, file, line,
		    "parameter data_directory: the control socket path %s/doorman.ctl is longer than %zu bytes",
		    dir, sizeof(sun.sun_path) - 1);
	}
	return 0;
}

void
conf_set_quiet(struct conf *c, int quiet)
{
	c->quiet = quiet;
}

int
conf_validate(struct conf *c, struct conf_err *err)
{
	const char **names, *file, *raw;
	struct conf_entry *e;
	struct conf_err xerr;
	char why[sizeof(err->reason)], where[600];
	char *v;
	size_t n, i;
	int line;

	n = conf_names(c, &names);
	mark_references(c, names, n);

	/* Unknown names: warn and carry on, as postconf does. */
	for (i = 0; i < n; i++) {
		e = conf_entry_find(c, names[i]);
		if (c->quiet || e == NULL || e->param != NULL || !e->set ||
		    e->referenced)
			continue;
		if (e->line > 0)
			snprintf(where, sizeof(where), "%s:%d", e->file,
			    e->line);
		else
			snprintf(where, sizeof(where), "%s", e->file);
		msg_warn("%s: unused parameter: %s=%s", where, e->name,
		    e->value);
	}

	for (i = 0; i < n; i++) {
		e = conf_entry_find(c, names[i]);
		if (e == NULL || e->param == NULL)
			continue;
		conf_origin(c, e->name, &file, &line);
		raw = conf_raw(c, e->name);
		if (e->param->flags & PARAM_RAW) {
			/* Expanded later with other names: syntax only. */
			v = expand_text(raw, null_lookup, NULL, EXPAND_SCAN,
			    &xerr);
		} else
			v = conf_expand(c, raw, &xerr);
		if (v == NULL)
			return conf_err_set(err, file, line, "parameter %s: %s",
			    e->name, xerr.reason);
		if (!(e->param->flags & PARAM_RAW) &&
		    check_value(e->param, v, why, sizeof(why)) < 0) {
			free(v);
			return conf_err_set(err, file, line, "%s", why);
		}
		free(v);
	}
	return check_control_socket(c, err);
}
