/*
 * site - screen_dnsbl_sites: "domain[=filter][*weight]" entries grouped
 * by domain, filter matching, and postscreen's scoring and TTL rules.
 *
 * Beyond postscreen: answers that are DNSBL error codes (outside
 * 127.0.0.0/8, in 127.255.255.0/24, dnswl's 127.0.0.255) never match an
 * entry unless its filter names that exact address, so a zone that
 * refuses our resolver cannot list or allowlist everybody.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rbl/rbl_int.h"

/* A decimal 0..255 of 1-3 digits at *p; advances *p.  -1 if none. */
static int
parse_byte(const char **p)
{
	const char *s = *p;
	int v = 0, n = 0;

	while (isdigit((unsigned char)*s) && n < 4) {
		v = v * 10 + (*s - '0');
		s++;
		n++;
	}
	if (n == 0 || n > 3 || v > 255)
		return -1;
	*p = s;
	return v;
}

/* One octet field: "n" or "[n;n..m;...]", ending at '.' or NUL. */
static int
parse_octet(const char **p, struct rbl_octet *o)
{
	const char *s = *p;
	int lo, hi;

	o->n = 0;
	if (*s != '[') {
		if ((lo = parse_byte(&s)) < 0)
			return -1;
		o->lo[0] = o->hi[0] = lo;
		o->n = 1;
		*p = s;
		return 0;
	}
	s++;
	for (;;) {
		if ((lo = parse_byte(&s)) < 0)
			return -1;
		hi = lo;
		if (s[0] == '.' && s[1] == '.') {
			s += 2;
			if ((hi = parse_byte(&s)) < 0 || hi < lo)
				return -1;
		}
		if (o->n >= RBL_MAX_RANGES)
			return -1;
		o->lo[o->n] = lo;
		o->hi[o->n] = hi;
		o->n++;
		if (*s == ';') {
			s++;
			continue;
		}
		if (*s == ']') {
			s++;
			break;
		}
		return -1;
	}
	*p = s;
	return 0;
}

static int
parse_filter_exact(const char *text, struct rbl_octet oct[4])
{
	const char *p = text;
	int i;

	for (i = 0; i < 4; i++) {
		if (parse_octet(&p, &oct[i]) < 0)
			return -1;
		if (i < 3) {
			if (*p != '.')
				return -1;
			p++;
		}
	}
	return *p == '\0' ? 0 : -1;
}

int
rbl_filter_parse(const char *text, struct rbl_octet oct[4])
{
	size_t len = strlen(text);
	char *inner;
	int rc;

	if (parse_filter_exact(text, oct) == 0)
		return 0;
	/* The whole pattern may be wrapped in [] (postscreen). */
	if (len < 3 || text[0] != '[' || text[len - 1] != ']')
		return -1;
	if ((inner = strndup(text + 1, len - 2)) == NULL)
		return -1;
	rc = parse_filter_exact(inner, oct);
	free(inner);
	return rc;
}

/* Host name rules (Postfix's valid_hostname): labels of letters, digits, - and _. */
static int
valid_domain(const char *d)
{
	size_t len = strlen(d), lab = 0;
	const char *p;
	int nondigit = 0;

	if (len == 0 || len > RBL_DOMAIN_MAX)
		return 0;
	for (p = d; *p; p++) {
		if (*p == '.') {
			if (lab == 0 || p[-1] == '-')
				return 0;
			lab = 0;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return 0;
		if (lab == 0 && *p == '-')
			return 0;
		if (!isdigit((unsigned char)*p))
			nondigit = 1;
		if (++lab > 63)
			return 0;
	}
	if (lab == 0 || p[-1] == '-')
		return 0;
	return nondigit;
}

int
rbl_site_parse(const char *text, struct rbl_entry *e, char *why, size_t len)
{
	char *copy, *star, *eq, *end;
	long w = 1;

	memset(e, 0, sizeof(*e));
	if ((copy = strdup(text)) == NULL) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	if ((star = strchr(copy, '*')) != NULL) {
		*star++ = '\0';
		w = strtol(star, &end, 10);
		if (*star == '\0' || isspace((unsigned char)*star) || *end != '\0' ||
		    w > 1000000 || w < -1000000) {
			snprintf(why, len, "bad DNSBL weight factor \"%.100s\" in \"%.200s\"",
			    star, text);
			free(copy);
			return -1;
		}
	}
	if ((eq = strchr(copy, '=')) != NULL) {
		*eq++ = '\0';
		if (rbl_filter_parse(eq, e->oct) < 0) {
			snprintf(why, len, "bad DNSBL filter syntax \"%.100s\" in \"%.200s\"",
			    eq, text);
			free(copy);
			return -1;
		}
		e->has_filter = 1;
		eq[-1] = '=';	/* keep "domain=filter" as the site text */
	}
	{
		char *domain = strndup(copy, eq ? (size_t)(eq - 1 - copy) : strlen(copy));

		if (domain == NULL || !valid_domain(domain)) {
			snprintf(why, len, "bad DNSBL domain name \"%.200s\" in \"%.200s\"",
			    domain ? domain : "", text);
			free(domain);
			free(copy);
			return -1;
		}
		free(domain);
	}
	e->site = copy;
	e->weight = (int)w;
	return 0;
}

/* The domain part of an entry's site text. */
static size_t
domain_len(const struct rbl_entry *e)
{
	const char *eq = strchr(e->site, '=');

	return eq ? (size_t)(eq - e->site) : strlen(e->site);
}

int
rbl_sites_parse(struct rbl_sites *s, const char *list, char *why, size_t len)
{
	const char *p = list;
	char item[1024];

	memset(s, 0, sizeof(*s));
	while (*p) {
		size_t n = 0;
		struct rbl_entry e, *ne;
		int z;

		while (*p && (isspace((unsigned char)*p) || *p == ','))
			p++;
		if (*p == '\0')
			break;
		while (p[n] && !isspace((unsigned char)p[n]) && p[n] != ',')
			n++;
		if (n >= sizeof(item)) {
			snprintf(why, len, "DNSBL site too long: \"%.100s...\"", p);
			goto bad;
		}
		memcpy(item, p, n);
		item[n] = '\0';
		p += n;
		if (rbl_site_parse(item, &e, why, len) < 0)
			goto bad;
		for (z = 0; z < s->nzones; z++)
			if (strlen(s->zones[z].domain) == domain_len(&e) &&
			    strncasecmp(s->zones[z].domain, e.site, domain_len(&e)) == 0)
				break;
		if (z == s->nzones) {
			struct rbl_zone *nz = realloc(s->zones, (s->nzones + 1) * sizeof(*nz));

			if (nz == NULL)
				goto oom;
			s->zones = nz;
			memset(&nz[z], 0, sizeof(nz[z]));
			if ((nz[z].domain = strndup(e.site, domain_len(&e))) == NULL)
				goto oom;
			s->nzones++;
		}
		e.zone = z;
		if (e.weight > s->zones[z].max_weight)
			s->zones[z].max_weight = e.weight;
		if (e.weight < s->zones[z].min_weight)
			s->zones[z].min_weight = e.weight;
		ne = realloc(s->entries, (s->nentries + 1) * sizeof(*ne));
		if (ne == NULL) {
			free(e.site);
			goto oom;
		}
		s->entries = ne;
		ne[s->nentries++] = e;
	}
	return 0;
oom:
	snprintf(why, len, "out of memory");
bad:
	rbl_sites_free(s);
	return -1;
}

void
rbl_sites_free(struct rbl_sites *s)
{
	int i;

	for (i = 0; i < s->nentries; i++)
		free(s->entries[i].site);
	for (i = 0; i < s->nzones; i++) {
		free(s->zones[i].domain);
		free(s->zones[i].shown);
	}
	free(s->entries);
	free(s->zones);
	memset(s, 0, sizeof(*s));
}

int
rbl_addr_is_error(uint32_t a)
{
	if ((a >> 24) != 127)
		return 1;
	if ((a & 0xffffff00) == 0x7fffff00)	/* 127.255.255.0/24: Spamhaus errors */
		return 1;
	if (a == 0x7f0000ff)			/* 127.0.0.255: dnswl limit exceeded */
		return 1;
	return 0;
}

const char *
rbl_addr_error_meaning(uint32_t a)
{
	switch (a) {
	case 0x7ffffffc:
		return "typing error in DNSBL name";
	case 0x7ffffffe:
		return "query via public/open resolver";
	case 0x7fffffff:
		return "excessive number of queries";
	case 0x7f0000ff:
		return "query limit exceeded";
	}
	if ((a >> 24) != 127)
		return "answer outside 127.0.0.0/8";
	return "reserved error range 127.255.255.0/24";
}

int
rbl_filter_match(const struct rbl_octet oct[4], uint32_t addr)
{
	int i, k;

	for (i = 0; i < 4; i++) {
		unsigned b = (addr >> (24 - 8 * i)) & 0xff;

		for (k = 0; k < oct[i].n; k++)
			if (b >= oct[i].lo[k] && b <= oct[i].hi[k])
				break;
		if (k == oct[i].n)
			return 0;
	}
	return 1;
}

int
rbl_filter_exact(const struct rbl_octet oct[4], uint32_t addr)
{
	int i;

	for (i = 0; i < 4; i++) {
		unsigned b = (addr >> (24 - 8 * i)) & 0xff;

		if (oct[i].n != 1 || oct[i].lo[0] != oct[i].hi[0] || oct[i].lo[0] != b)
			return 0;
	}
	return 1;
}

int
rbl_entry_match(const struct rbl_entry *e, const uint32_t *addr, int naddr, uint32_t *matched)
{
	int i, n = 0;

	for (i = 0; i < naddr; i++) {
		int ok;

		if (rbl_addr_is_error(addr[i]))
			ok = e->has_filter && rbl_filter_exact(e->oct, addr[i]);
		else
			ok = !e->has_filter || rbl_filter_match(e->oct, addr[i]);
		if (ok) {
			if (matched)
				matched[n] = addr[i];
			n++;
		}
	}
	return n;
}

void
rbl_score_init(struct rbl_score *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->pass_ttl = sc->fail_ttl = -1;
	sc->best = -1;
}

static void
min_ttl(long *slot, long ttl)
{
	if (ttl < 0)
		return;
	if (*slot < 0 || ttl < *slot)
		*slot = ttl;
}

/*
 * postscreen: every (filter, weight) pair of the zone that matches adds
 * its weight once.  A matching positive (listing) or non-matching
 * negative pair speaks for failing: its TTL goes to fail_ttl; the other
 * two cases to pass_ttl.  The reply names the matching pair with the
 * largest weight.
 */
void
rbl_score_add(const struct rbl_sites *s, int zone, const struct rbl_answer *a,
    struct rbl_score *sc)
{
	uint32_t matched[RBL_MAX_ADDRS];
	int i, n;

	if (a->status != RBL_LISTED && a->status != RBL_UNLISTED)
		return;
	for (i = 0; i < s->nentries; i++) {
		const struct rbl_entry *e = &s->entries[i];

		if (e->zone != zone)
			continue;
		n = a->status == RBL_LISTED ? rbl_entry_match(e, a->addr, a->naddr, matched) : 0;
		if (n > 0) {
			sc->total += e->weight;
			if (e->weight > sc->best_weight) {
				sc->best_weight = e->weight;
				sc->best = i;
				memcpy(sc->best_addr, matched, n * sizeof(matched[0]));
				sc->best_naddr = n;
			}
			min_ttl(e->weight > 0 ? &sc->fail_ttl : &sc->pass_ttl, a->ttl);
		} else {
			min_ttl(e->weight > 0 ? &sc->pass_ttl : &sc->fail_ttl, a->ttl);
		}
	}
}

long
rbl_score_ttl(const struct rbl_score *sc, long lo, long hi)
{
	long ttl = sc->total > 0 ? sc->fail_ttl : sc->pass_ttl;

	if (ttl < lo)
		ttl = lo;
	if (ttl > hi)
		ttl = hi;
	return ttl;
}
