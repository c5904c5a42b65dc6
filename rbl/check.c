/*
 * check - `doorman check` for DNSBL sites: STRESS_README's advice made
 * automatic.  Warns about lists that another configured list already
 * contains (zen.spamhaus.org = sbl + xbl + pbl + css), and, when asked to
 * probe, about zones that do not list the RFC 5782 test point 127.0.0.2
 * through the configured resolver (wrong name, refused resolver, dead).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include "conf/conf.h"
#include "rbl/rbl_int.h"

static int
ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcasecmp(s + a - b, suffix) == 0 &&
	    (a == b || s[a - b - 1] == '.');
}

/* "zen" for zen.spamhaus.org and KEY.zen.dq.spamhaus.net, else NULL. */
static int
is_spamhaus(const char *d, const char *list)
{
	char a[64], b[64];

	snprintf(a, sizeof(a), "%s.spamhaus.org", list);
	snprintf(b, sizeof(b), "%s.dq.spamhaus.net", list);
	return ends_with(d, a) || ends_with(d, b);
}

struct probe {
	struct ev_loop *loop;
	int	done;
};

static void
probe_update(void *arg, const struct rbl_verdict *v)
{
	struct probe *p = arg;

	if (v->complete) {
		p->done = 1;
		ev_break(p->loop, EVBREAK_ALL);
	}
}

int
rbl_check_sites(struct conf *conf, int probe, FILE *out)
{
	static const char *parts[] = { "sbl", "xbl", "pbl", "css", "sbl-xbl" };
	struct conf_err err;
	struct ev_loop *loop;
	struct rbl *r;
	int warnings = 0, z, y;
	size_t i;

	if ((loop = ev_loop_new(EVFLAG_AUTO)) == NULL)
		return 0;
	if ((r = rbl_create(loop, conf, &err)) == NULL) {
		ev_loop_destroy(loop);
		return 0;		/* conf_validate()/rbl_create() report it */
	}
	for (z = 0; z < r->sites.nzones; z++) {
		if (!is_spamhaus(r->sites.zones[z].domain, "zen"))
			continue;
		for (y = 0; y < r->sites.nzones; y++)
			for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
				if (is_spamhaus(r->sites.zones[y].domain, parts[i])) {
					fprintf(out, "warning: screen_dnsbl_sites: %s is redundant:"
					    " %s already contains it, so listed clients count twice\n",
					    r->sites.zones[y].domain, r->sites.zones[z].domain);
					warnings++;
				}
	}
	if (probe && rbl_enabled(r)) {
		struct sockaddr_in sin = { .sin_family = AF_INET };
		struct probe p = { loop, 0 };
		struct rbl_lookup *l;

		sin.sin_addr.s_addr = htonl(0x7f000002);
		if ((l = rbl_lookup_start(r, (struct sockaddr *)&sin, probe_update, &p)) != NULL) {
			struct rbl_client *c;

			while (!p.done)
				ev_run(loop, EVRUN_ONCE);
			c = rbl_lookup_client(l);
			for (z = 0; z < r->sites.nzones; z++) {
				const struct rbl_answer *a = rbl_client_answer(c, z);
				const char *why = NULL;
				int k, real = 0;

				for (k = 0; a && a->status == RBL_LISTED && k < a->naddr; k++)
					if (!rbl_addr_is_error(a->addr[k]))
						real++;
					else
						why = rbl_addr_error_meaning(a->addr[k]);
				if (real)
					continue;
				if (why == NULL)
					why = a == NULL ? "no query sent" :
					    a->status == RBL_TIMEOUT ? "no answer in time" :
					    a->status == RBL_FAILED ? (a->why ? a->why : "error") :
					    "not listed";
				fprintf(out, "warning: screen_dnsbl_sites: %s does not list the test"
				    " address 127.0.0.2 (RFC 5782): %s; check the zone name and"
				    " dns_servers\n", r->sites.zones[z].domain, why);
				warnings++;
			}
			rbl_lookup_cancel(l);
		}
	}
	rbl_free(r);
	ev_loop_destroy(loop);
	return warnings;
}
