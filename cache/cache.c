/*
 * cache - the front of the screening cache: picks the back end named by
 * screen_cache_map, reads the settings both back ends share, and makes
 * every call safe on a NULL cache (none configured).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache_int.h"
#include "conf/log.h"

#define WARN_INTERVAL	60.0	/* seconds between two logged warnings */

/* Getters that tolerate a config without the parameter (or no config). */
static const char *
cfg_str(struct conf *conf, const char *name, const char *dflt)
{
	if (conf == NULL || conf_raw(conf, name) == NULL)
		return dflt;
	return conf_str(conf, name);
}

static long
cfg_time(struct conf *conf, const char *name, long dflt)
{
	if (conf == NULL || conf_raw(conf, name) == NULL)
		return dflt;
	return conf_time(conf, name);
}

static int
cfg_bool(struct conf *conf, const char *name, int dflt)
{
	if (conf == NULL || conf_raw(conf, name) == NULL)
		return dflt;
	return conf_bool(conf, name);
}

static int
blank(const char *s)
{
	if (s == NULL)
		return 1;
	while (*s && (isspace((unsigned char)*s) || *s == ','))
		s++;
	return *s == '\0';
}

unsigned
cache_enabled_from_conf(struct conf *conf)
{
	unsigned mask = 0;

	if (!blank(cfg_str(conf, "screen_greet_banner", "$smtpd_banner")))
		mask |= CACHE_BIT(CACHE_PREGREET);
	if (!blank(cfg_str(conf, "screen_dnsbl_sites", "")))
		mask |= CACHE_BIT(CACHE_DNSBL);
	if (cfg_bool(conf, "screen_pipelining_enable", 0))
		mask |= CACHE_BIT(CACHE_PIPELINING);
	if (cfg_bool(conf, "screen_non_smtp_command_enable", 0))
		mask |= CACHE_BIT(CACHE_NON_SMTP);
	if (cfg_bool(conf, "screen_bare_newline_enable", 0))
		mask |= CACHE_BIT(CACHE_BARE_NEWLINE);
	return mask;
}

void
cache_common_init(struct cache *c, const struct cache_ops *ops,
    struct ev_loop *loop, struct conf *conf, const char *name)
{
	c->ops = ops;
	c->loop = loop;
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->enabled = cache_enabled_from_conf(conf);
	c->cleanup_interval = cfg_time(conf, "screen_cache_cleanup_interval", 12 * 3600);
	c->retention = cfg_time(conf, "screen_cache_retention_time", 7 * 86400);
	if (c->cleanup_interval < 0)
		c->cleanup_interval = 0;
	if (c->retention < 0)
		c->retention = 0;
	c->last_warn = -WARN_INTERVAL * 2;
	c->suppressed = 0;
}

void
cache_warn_limited(struct cache *c, const char *fmt, ...)
{
	char	buf[1024];
	va_list	ap;
	ev_tstamp now = ev_now(c->loop);

	if (now - c->last_warn < WARN_INTERVAL && c->last_warn >= 0) {
		c->suppressed++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (c->suppressed > 0)
		msg_warn("%s (%u similar warnings suppressed)", buf, c->suppressed);
	else
		msg_warn("%s", buf);
	c->last_warn = now;
	c->suppressed = 0;
}

int
cache_key_ok(const char *ip)
{
	size_t	n;

	/* No address starts with '_': that keeps _LAST_CACHE_... out of reach. */
	if (ip == NULL || ip[0] == '_')
		return 0;
	for (n = 0; ip[n] != '\0'; n++) {
		if (n >= CACHE_KEY_MAX)
			return 0;
		if (!isgraph((unsigned char)ip[n]))
			return 0;
	}
	return n > 0;
}

static void
set_err(struct conf *conf, struct conf_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_err(struct conf *conf, struct conf_err *err, const char *fmt, ...)
{
	const char *file = "default";
	int	line = 0;
	va_list	ap;

	if (err == NULL)
		return;
	if (conf != NULL && conf_raw(conf, "screen_cache_map") != NULL)
		conf_origin(conf, "screen_cache_map", &file, &line);
	snprintf(err->file, sizeof(err->file), "%s", file ? file : "default");
	err->line = line;
	va_start(ap, fmt);
	vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
	va_end(ap);
}

struct cache *
cache_open(struct ev_loop *loop, struct conf *conf, struct conf_err *err)
{
	return cache_open_spec(loop, conf,
	    cfg_str(conf, "screen_cache_map", ""), err);
}

struct cache *
cache_open_spec(struct ev_loop *loop, struct conf *conf, const char *spec,
    struct conf_err *err)
{
	struct cache *c;
	char	why[512], buf[1024];
	const char *rest;
	size_t	n;

	if (err != NULL)
		memset(err, 0, sizeof(*err));
	if (spec == NULL)
		spec = "";
	while (isspace((unsigned char)*spec))
		spec++;
	n = strlen(spec);
	while (n > 0 && isspace((unsigned char)spec[n - 1]))
		n--;
	if (n == 0)
		return NULL;
	if (n >= sizeof(buf)) {
		set_err(conf, err, "screen_cache_map: value too long");
		return NULL;
	}
	memcpy(buf, spec, n);
	buf[n] = '\0';
	spec = buf;

	/* Postfix's proxymap is meaningless here: one process writes. */
	if (strncmp(spec, "proxy:", 6) == 0)
		spec += 6;
	why[0] = '\0';
	if (strncmp(spec, "lmdb:", 5) == 0 || strncmp(spec, "btree:", 6) == 0
	    || strncmp(spec, "hash:", 5) == 0) {
		rest = strchr(spec, ':') + 1;
		if (*rest == '\0') {
			set_err(conf, err, "screen_cache_map: %s: missing file name", spec);
			return NULL;
		}
		if (strncmp(spec, "lmdb:", 5) != 0)
			msg_info("screen_cache_map: %s is stored as lmdb:%s (LMDB replaces Berkeley DB)",
			    spec, rest);
		c = cache_lmdb_open(loop, conf, rest, why, sizeof(why));
	} else if (strncmp(spec, "redis:", 6) == 0) {
		c = cache_redis_open(loop, conf, spec + 6, why, sizeof(why));
	} else if (strncmp(spec, "memcache:", 9) == 0) {
		set_err(conf, err, "screen_cache_map: %s: memcache is not supported; use redis:HOST:PORT to share the cache",
		    spec);
		return NULL;
	} else {
		set_err(conf, err, "screen_cache_map: %s: unsupported cache type (use lmdb:PATH or redis:HOST:PORT)",
		    spec);
		return NULL;
	}
	if (c == NULL)
		set_err(conf, err, "screen_cache_map: %s: %s", buf, why);
	return c;
}

struct cache_req *
cache_lookup(struct cache *c, const char *ip, cache_lookup_fn *cb, void *arg)
{
	if (c == NULL || !cache_key_ok(ip)) {
		cb(arg, 0, NULL);
		return NULL;
	}
	return c->ops->lookup(c, ip, cb, arg);
}

void
cache_cancel(struct cache_req *req)
{
	if (req != NULL)
		req->cancel(req);
}

void
cache_update(struct cache *c, const char *ip, const struct cache_record *rec)
{
	if (c == NULL || !cache_key_ok(ip) || rec == NULL)
		return;
	c->ops->update(c, ip, rec);
}

void
cache_set_enabled(struct cache *c, unsigned enabled)
{
	if (c != NULL)
		c->enabled = enabled & CACHE_ALL_TESTS;
}

void
cache_flush(struct cache *c)
{
	if (c != NULL && c->ops->flush != NULL)
		c->ops->flush(c);
}

size_t
cache_size(struct cache *c)
{
	return c == NULL ? 0 : c->ops->size(c);
}

const char *
cache_name(const struct cache *c)
{
	return c == NULL ? "" : c->name;
}

void
cache_close(struct cache *c)
{
	if (c != NULL)
		c->ops->close(c);
}
