/*
 * test_rbl - unit tests of rbl/: site syntax, filters, postscreen's
 * scoring vectors (postscreen_dnsbl_test.c) as a parameter table, TTL
 * rules, query names, answer checks on packets crafted with ldns, and
 * reply-map choice, expansion and smtpd's code checks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <ev.h>
#include <ldns/ldns.h>

#include "conf/conf.h"
#include "conf/log.h"
#include "rbl/rbl.h"
#include "rbl/rbl_int.h"

static uint32_t
A4(const char *s)
{
	struct in_addr a;

	cr_assert(inet_pton(AF_INET, s, &a) == 1, "%s", s);
	return ntohl(a.s_addr);
}

/* ---- site syntax ---- */

Test(site, good_entries)
{
	static const char *good[] = {
		"zen.spamhaus.org", "zen.spamhaus.org*2", "zen.spamhaus.org*-2", "zen.spamhaus.org*+3",
		"zen.spamhaus.org=127.0.0.2", "zen.spamhaus.org=127.0.0.[2..11]",
		"zen.spamhaus.org=127.0.0.[10;11]*3", "list.dnswl.org=127.0.[0..255].[1..3]*-2",
		"x.test=[127.0.0.2]", "x.test=[1..3].0.0.[1..3]", "b_l.example-1.test=127.0.0.[1;2;4..6]",
		"x.test=127.0.0.255*0",
	};
	struct rbl_entry e;
	char why[256];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cr_assert_eq(rbl_site_parse(good[i], &e, why, sizeof(why)), 0, "%s: %s", good[i], why);
		free(e.site);
	}
	cr_assert_eq(rbl_site_parse("zen.spamhaus.org=127.0.0.[10;11]*3", &e, why, sizeof(why)), 0);
	cr_assert_str_eq(e.site, "zen.spamhaus.org=127.0.0.[10;11]");
	cr_assert_eq(e.weight, 3);
	cr_assert(e.has_filter);
	free(e.site);
	cr_assert_eq(rbl_site_parse("list.dnswl.org*-2", &e, why, sizeof(why)), 0);
	cr_assert_eq(e.weight, -2);
	cr_assert(!e.has_filter);
	free(e.site);
}

Test(site, bad_entries)
{
	static const char *bad[] = {
		"", "zen.spamhaus.org*", "zen.spamhaus.org*x", "zen.spamhaus.org*2x", "zen.spamhaus.org* 2",
		"zen.spamhaus.org=", "zen.spamhaus.org=127.0.0", "zen.spamhaus.org=127.0.0.256",
		"zen.spamhaus.org=1.2.3.3[6..9]", "zen.spamhaus.org=1.2.[3.4]", "zen.spamhaus.org=1.2.3.[9..6]",
		"zen.spamhaus.org=1.2.3.[]", "zen.spamhaus.org=1.2.3.[1;]", "zen.spamhaus.org=1.2.3.4.5",
		"zen..spamhaus.org", ".zen.org", "zen.org.", "-zen.org", "zen-.org", "z%n.org",
		"=127.0.0.2", "*3", "1.2.3.4", "zen.spamhaus.org=127.0.0.0001",
		"zen.spamhaus.org=[127.0.0.2", "zen.spamhaus.org=127.0.0.[1..2..3]",
	};
	struct rbl_entry e;
	char why[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(rbl_site_parse(bad[i], &e, why, sizeof(why)), -1, "accepted: \"%s\"", bad[i]);
	cr_assert_eq(rbl_site_parse("zen.spamhaus.org*x", &e, why, sizeof(why)), -1);
	cr_assert(strstr(why, "bad DNSBL weight factor"), "%s", why);
	cr_assert_eq(rbl_site_parse("zen.spamhaus.org=1.2.[3.4]", &e, why, sizeof(why)), -1);
	cr_assert(strstr(why, "bad DNSBL filter syntax"), "%s", why);
	cr_assert_eq(rbl_site_parse("z%n.org", &e, why, sizeof(why)), -1);
	cr_assert(strstr(why, "bad DNSBL domain name"), "%s", why);
}

Test(site, grouping_by_domain)
{
	struct rbl_sites s;
	char why[256];

	cr_assert_eq(rbl_sites_parse(&s, "zen.spamhaus.org=127.0.0.[2..11]*3, zen.spamhaus.org=127.0.0.4\n"
	    "  ZEN.spamhaus.org bl.spamcop.net,list.dnswl.org=127.0.[0..255].[1..3]*-2",
	    why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(s.nentries, 5);
	cr_assert_eq(s.nzones, 3);
	cr_assert_str_eq(s.zones[0].domain, "zen.spamhaus.org");
	cr_assert_eq(s.entries[2].zone, 0);
	cr_assert_eq(s.entries[4].zone, 2);
	rbl_sites_free(&s);
	cr_assert_eq(rbl_sites_parse(&s, "", why, sizeof(why)), 0);
	cr_assert_eq(s.nzones, 0);
	cr_assert_eq(rbl_sites_parse(&s, "ok.test bad..test", why, sizeof(why)), -1);
}

/* ---- filters ---- */

Test(filter, matching)
{
	struct rbl_octet o[4];

	cr_assert_eq(rbl_filter_parse("127.0.0.[2..11]", o), 0);
	cr_assert(rbl_filter_match(o, A4("127.0.0.2")));
	cr_assert(rbl_filter_match(o, A4("127.0.0.11")));
	cr_assert(!rbl_filter_match(o, A4("127.0.0.1")));
	cr_assert(!rbl_filter_match(o, A4("127.0.0.12")));
	cr_assert(!rbl_filter_match(o, A4("127.255.255.2")));
	cr_assert_eq(rbl_filter_parse("127.0.[0..255].[1..3]", o), 0);
	cr_assert(rbl_filter_match(o, A4("127.0.15.3")));
	cr_assert(!rbl_filter_match(o, A4("127.0.15.0")));
	cr_assert(!rbl_filter_match(o, A4("127.0.0.255")));
	cr_assert_eq(rbl_filter_parse("[1;3;5..7].2.3.4", o), 0);
	cr_assert(rbl_filter_match(o, A4("6.2.3.4")));
	cr_assert(!rbl_filter_match(o, A4("4.2.3.4")));
	cr_assert_eq(rbl_filter_parse("[127.0.0.2]", o), 0);
	cr_assert(rbl_filter_exact(o, A4("127.0.0.2")));
	cr_assert(!rbl_filter_exact(o, A4("127.0.0.3")));
}

Test(filter, error_codes_never_match_unless_named)
{
	struct rbl_entry e;
	char why[256];
	uint32_t ans[3] = { A4("127.255.255.254"), A4("127.0.0.255"), A4("10.0.0.2") };
	uint32_t real[2] = { A4("127.255.255.254"), A4("127.0.0.4") }, m[4];

	cr_assert(rbl_addr_is_error(A4("127.255.255.252")));
	cr_assert(rbl_addr_is_error(A4("127.255.255.0")));
	cr_assert(rbl_addr_is_error(A4("127.0.0.255")));
	cr_assert(rbl_addr_is_error(A4("192.0.2.1")));
	cr_assert(!rbl_addr_is_error(A4("127.0.0.2")));
	cr_assert(!rbl_addr_is_error(A4("127.0.1.255")));

	cr_assert_eq(rbl_site_parse("zen.spamhaus.org", &e, why, sizeof(why)), 0);
	cr_assert_eq(rbl_entry_match(&e, ans, 3, NULL), 0, "unfiltered site took an error code");
	cr_assert_eq(rbl_entry_match(&e, real, 2, m), 1);
	cr_assert_eq(m[0], A4("127.0.0.4"));
	free(e.site);
	cr_assert_eq(rbl_site_parse("zen.spamhaus.org=127.255.255.[0..255]", &e, why, sizeof(why)), 0);
	cr_assert_eq(rbl_entry_match(&e, ans, 3, NULL), 0, "a range is not an exact name");
	free(e.site);
	cr_assert_eq(rbl_site_parse("zen.spamhaus.org=127.255.255.254*5", &e, why, sizeof(why)), 0);
	cr_assert_eq(rbl_entry_match(&e, ans, 3, NULL), 1);
	free(e.site);
	cr_assert_eq(rbl_site_parse("list.dnswl.org*-2", &e, why, sizeof(why)), 0);
	cr_assert_eq(rbl_entry_match(&e, ans + 1, 1, NULL), 0, "dnswl 127.0.0.255 allowlisted");
	free(e.site);
}

/* ---- scoring: Postfix's postscreen_dnsbl_test.c vectors ---- */

struct score_case {
	char	label[64];
	char	sites[160];
	char	answer[80];	/* A records, space separated; "" = NXDOMAIN */
	int	want;
};

ParameterizedTestParameters(score, postfix_vectors)
{
	static struct score_case cases[] = {
		{ "single site", "zen.spamhaus.org", "127.0.0.2 127.0.0.4 127.0.0.10", 1 },
		{ "repeated site counts twice", "zen.spamhaus.org, zen.spamhaus.org",
		    "127.0.0.2 127.0.0.4 127.0.0.10", 2 },
		{ "weight first", "zen.spamhaus.org*3, zen.spamhaus.org", "127.0.0.2 127.0.0.4 127.0.0.10", 4 },
		{ "weight last", "zen.spamhaus.org, zen.spamhaus.org*3", "127.0.0.2 127.0.0.4 127.0.0.10", 4 },
		{ "filter and weight", "zen.spamhaus.org=127.0.0.10*3, zen.spamhaus.org",
		    "127.0.0.2 127.0.0.4 127.0.0.10", 4 },
		{ "add and subtract", "zen.spamhaus.org=127.0.0.[1..255]*3, zen.spamhaus.org=127.0.0.3*-1",
		    "127.0.0.3 127.0.0.10", 2 },
		{ "add, nothing to subtract", "zen.spamhaus.org=127.0.0.[1..255]*3, zen.spamhaus.org=127.0.0.3*-1",
		    "127.0.0.10", 3 },
		{ "filter misses", "zen.spamhaus.org=127.0.0.10*3", "127.0.0.2 127.0.0.4", 0 },
		{ "not listed", "zen.spamhaus.org*3", "", 0 },
		{ "dnswl alone", "list.dnswl.org=127.0.[0..255].[1..3]*-2", "127.0.5.2", -2 },
		{ "dnswl limit code", "list.dnswl.org=127.0.[0..255].[1..3]*-2", "127.0.0.255", 0 },
		{ "unfiltered dnswl limit code", "list.dnswl.org*-2", "127.0.0.255", 0 },
		{ "spamhaus error code", "zen.spamhaus.org*3", "127.255.255.254", 0 },
		{ "outside 127/8", "zen.spamhaus.org*3", "192.0.2.1", 0 },
		{ "error code named", "zen.spamhaus.org=127.255.255.254*7", "127.255.255.254", 7 },
	};

	return cr_make_param_array(struct score_case, cases, sizeof(cases) / sizeof(cases[0]));
}

static void
fill_answer(struct rbl_answer *a, const char *text, long ttl)
{
	char buf[80], *tok, *save = NULL;

	memset(a, 0, sizeof(*a));
	a->ttl = ttl;
	snprintf(buf, sizeof(buf), "%s", text);
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		a->addr[a->naddr++] = A4(tok);
	a->status = a->naddr ? RBL_LISTED : RBL_UNLISTED;
}

ParameterizedTest(struct score_case *c, score, postfix_vectors)
{
	struct rbl_sites s;
	struct rbl_answer a;
	struct rbl_score sc;
	char why[256];
	int z;

	cr_assert_eq(rbl_sites_parse(&s, c->sites, why, sizeof(why)), 0, "%s", why);
	fill_answer(&a, c->answer, 300);
	rbl_score_init(&sc);
	for (z = 0; z < s.nzones; z++)
		rbl_score_add(&s, z, &a, &sc);
	cr_expect_eq(sc.total, c->want, "%s: unexpected score: got %d, want %d", c->label,
	    sc.total, c->want);
	rbl_sites_free(&s);
}

Test(score, dnswl_plus_listing_and_best_entry)
{
	struct rbl_sites s;
	struct rbl_answer a;
	struct rbl_score sc;
	char why[256];

	cr_assert_eq(rbl_sites_parse(&s, "zen.spamhaus.org=127.0.0.[2..11]*1 bl.test*2 "
	    "list.dnswl.org=127.0.[0..255].[1..3]*-2", why, sizeof(why)), 0);
	rbl_score_init(&sc);
	fill_answer(&a, "127.0.0.4", 300);
	rbl_score_add(&s, 0, &a, &sc);
	fill_answer(&a, "", 900);
	rbl_score_add(&s, 1, &a, &sc);
	fill_answer(&a, "127.0.10.2", 100);
	rbl_score_add(&s, 2, &a, &sc);
	cr_assert_eq(sc.total, -1);
	cr_assert_eq(sc.best, 0);
	/* score <= 0: pass_ttl = min(unlisted bl.test 900, listed dnswl 100) */
	cr_assert_eq(rbl_score_ttl(&sc, 60, 3600), 100);
	rbl_sites_free(&s);
}

Test(score, ttl_rules)
{
	struct rbl_sites s;
	struct rbl_answer a;
	struct rbl_score sc;
	char why[256];

	cr_assert_eq(rbl_sites_parse(&s, "a.test b.test*2", why, sizeof(why)), 0);
	/* listed: TTL of the listing answer */
	rbl_score_init(&sc);
	fill_answer(&a, "127.0.0.2", 7200);
	rbl_score_add(&s, 0, &a, &sc);
	fill_answer(&a, "", 120);
	rbl_score_add(&s, 1, &a, &sc);
	cr_assert_eq(sc.total, 1);
	cr_assert_eq(rbl_score_ttl(&sc, 60, 86400), 7200);
	cr_assert_eq(rbl_score_ttl(&sc, 60, 3600), 3600, "clamped to max");
	cr_assert_eq(sc.best, 0);
	/* unlisted: min of negative TTLs, clamped to min */
	rbl_score_init(&sc);
	fill_answer(&a, "", 300);
	rbl_score_add(&s, 0, &a, &sc);
	fill_answer(&a, "", 30);
	rbl_score_add(&s, 1, &a, &sc);
	cr_assert_eq(rbl_score_ttl(&sc, 60, 3600), 60);
	/* nothing known (-1) becomes the minimum */
	rbl_score_init(&sc);
	cr_assert_eq(rbl_score_ttl(&sc, 60, 3600), 60);
	/* best entry is the largest weight */
	rbl_score_init(&sc);
	fill_answer(&a, "127.0.0.2", 300);
	rbl_score_add(&s, 0, &a, &sc);
	rbl_score_add(&s, 1, &a, &sc);
	cr_assert_eq(sc.best, 1);
	cr_assert_eq(sc.total, 3);
	rbl_sites_free(&s);
}

/* ---- query names ---- */

Test(dns, query_names)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char buf[300];

	cr_assert_eq(addr_parse_ip("192.0.2.1", &ss, &sl), 0);
	cr_assert_eq(rbl_query_name((struct sockaddr *)&ss, "zen.spamhaus.org", buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "1.2.0.192.zen.spamhaus.org");
	cr_assert_eq(addr_parse_ip("2001:db8:1:2::ab", &ss, &sl), 0);
	cr_assert_eq(rbl_query_name((struct sockaddr *)&ss, "bl.test", buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "b.a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.bl.test");
	{
		struct sockaddr_in6 s6;

		memset(&s6, 0, sizeof(s6));
		s6.sin6_family = AF_INET6;
		inet_pton(AF_INET6, "::ffff:198.51.100.7", &s6.sin6_addr);
		cr_assert_eq(rbl_query_name((struct sockaddr *)&s6, "x.test", buf, sizeof(buf)), 0);
		cr_assert_str_eq(buf, "7.100.51.198.x.test");
	}
	cr_assert_eq(rbl_query_name((struct sockaddr *)&ss, "bl.test", buf, 40), -1);
}

/* ---- answers: packets crafted with ldns ---- */

#define QN "2.0.0.127.zen.test"

/* A reply packet; flags as named; the caller adds records. */
static ldns_pkt *
reply_pkt(uint16_t id, const char *qname, ldns_rr_type qt, ldns_pkt_rcode rcode)
{
	ldns_pkt *p = NULL;

	cr_assert_eq(ldns_pkt_query_new_frm_str(&p, qname, qt, LDNS_RR_CLASS_IN, LDNS_RD),
	    LDNS_STATUS_OK);
	ldns_pkt_set_id(p, id);
	ldns_pkt_set_qr(p, 1);
	ldns_pkt_set_aa(p, 1);
	ldns_pkt_set_rcode(p, rcode);
	return p;
}

static void
add_rr(ldns_pkt *p, ldns_pkt_section sec, const char *text)
{
	ldns_rr *rr = NULL;

	cr_assert_eq(ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL), LDNS_STATUS_OK, "%s", text);
	ldns_pkt_push_rr(p, sec, rr);
}

static int
parse(ldns_pkt *p, uint16_t id, const char *qname, int qt, struct rbl_answer *a, const char **why)
{
	uint8_t *w = NULL;
	size_t len;
	int rc;

	cr_assert_eq(ldns_pkt2wire(&w, p, &len), LDNS_STATUS_OK);
	ldns_pkt_free(p);
	rc = rbl_dns_parse(w, len, id, qname, qt, a, why);
	free(w);
	return rc;
}

Test(answer, listed_and_unlisted)
{
	struct rbl_answer a;
	const char *why = NULL;
	ldns_pkt *p;

	p = reply_pkt(0x1234, QN, LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR);
	add_rr(p, LDNS_SECTION_ANSWER, QN ". 300 IN A 127.0.0.2");
	add_rr(p, LDNS_SECTION_ANSWER, "2.0.0.127.ZEN.test. 200 IN A 127.0.0.4");
	add_rr(p, LDNS_SECTION_ANSWER, "other.zen.test. 10 IN A 127.0.0.9");	/* ignored owner */
	cr_assert_eq(parse(p, 0x1234, QN, LDNS_RR_TYPE_A, &a, &why), 0);
	cr_assert_eq(a.status, RBL_LISTED);
	cr_assert_eq(a.naddr, 2);
	cr_assert_eq(a.addr[1], A4("127.0.0.4"));
	cr_assert_eq(a.ttl, 200);

	p = reply_pkt(7, QN, LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN);
	add_rr(p, LDNS_SECTION_AUTHORITY, "zen.test. 900 IN SOA ns.zen.test. h.zen.test. 1 3600 600 86400 120");
	cr_assert_eq(parse(p, 7, QN, LDNS_RR_TYPE_A, &a, &why), 0);
	cr_assert_eq(a.status, RBL_UNLISTED);
	cr_assert_eq(a.ttl, 120);

	p = reply_pkt(8, QN, LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR);	/* NODATA */
	cr_assert_eq(parse(p, 8, QN, LDNS_RR_TYPE_A, &a, &why), 0);
	cr_assert_eq(a.status, RBL_UNLISTED);
	cr_assert_eq(a.ttl, -1);

	p = reply_pkt(9, QN, LDNS_RR_TYPE_TXT, LDNS_RCODE_NOERROR);
	add_rr(p, LDNS_SECTION_ANSWER, QN ". 300 IN TXT \"listed\" \" see x\"");
	add_rr(p, LDNS_SECTION_ANSWER, QN ". 300 IN TXT \"bad\\010byte\"");
	cr_assert_eq(parse(p, 9, QN, LDNS_RR_TYPE_TXT, &a, &why), 0);
	cr_assert_eq(a.status, RBL_LISTED);
	cr_assert_str_eq(a.txt, "listed see x / bad_byte");
}

Test(answer, cname_chain)
{
	struct rbl_answer a;
	const char *why = NULL;
	ldns_pkt *p;

	p = reply_pkt(5, QN, LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR);
	add_rr(p, LDNS_SECTION_ANSWER, QN ". 300 IN CNAME alias.zen.test.");
	add_rr(p, LDNS_SECTION_ANSWER, "alias.zen.test. 60 IN A 127.0.0.3");
	cr_assert_eq(parse(p, 5, QN, LDNS_RR_TYPE_A, &a, &why), 0);
	cr_assert_eq(a.naddr, 1);
	cr_assert_eq(a.addr[0], A4("127.0.0.3"));
}

Test(answer, failures_count_as_not_listed)
{
	struct rbl_answer a;
	const char *why = NULL;
	ldns_pkt *p;

	p = reply_pkt(1, QN, LDNS_RR_TYPE_A, LDNS_RCODE_SERVFAIL);
	cr_assert_eq(parse(p, 1, QN, LDNS_RR_TYPE_A, &a, &why), 0);
	cr_assert_eq(a.status, RBL_FAILED);
	cr_assert_str_eq(a.why, "SERVFAIL");
	p = reply_pkt(1, QN, LDNS_RR_TYPE_A, LDNS_RCODE_REFUSED);
	cr_assert_eq(parse(p, 1, QN, LDNS_RR_TYPE_A, &a, &why), 0);
	cr_assert_eq(a.status, RBL_FAILED);
	p = reply_pkt(1, QN, LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR);
	ldns_pkt_set_tc(p, 1);
	add_rr(p, LDNS_SECTION_ANSWER, QN ". 300 IN A 127.0.0.2");
	cr_assert_eq(parse(p, 1, QN, LDNS_RR_TYPE_A, &a, &why), 0);
	cr_assert_eq(a.status, RBL_FAILED, "TC must not list");
}

Test(answer, spoofed_or_garbage_ignored)
{
	struct rbl_answer a;
	const char *why = NULL;
	ldns_pkt *p;
	uint8_t junk[64];
	size_t i;

	p = reply_pkt(0x4321, QN, LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR);
	add_rr(p, LDNS_SECTION_ANSWER, QN ". 300 IN A 127.0.0.2");
	cr_assert_eq(parse(p, 0x4322, QN, LDNS_RR_TYPE_A, &a, &why), -1);
	cr_assert_str_eq(why, "wrong ID");

	p = reply_pkt(3, "3.0.0.127.zen.test", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR);
	add_rr(p, LDNS_SECTION_ANSWER, "3.0.0.127.zen.test. 300 IN A 127.0.0.2");
	cr_assert_eq(parse(p, 3, QN, LDNS_RR_TYPE_A, &a, &why), -1);
	cr_assert_str_eq(why, "wrong question");

	p = reply_pkt(3, QN, LDNS_RR_TYPE_TXT, LDNS_RCODE_NOERROR);
	cr_assert_eq(parse(p, 3, QN, LDNS_RR_TYPE_A, &a, &why), -1, "wrong qtype");

	p = reply_pkt(3, QN, LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR);
	ldns_pkt_set_qr(p, 0);
	cr_assert_eq(parse(p, 3, QN, LDNS_RR_TYPE_A, &a, &why), -1, "a query, not a reply");

	p = reply_pkt(3, QN, LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR);
	ldns_pkt_set_opcode(p, LDNS_PACKET_NOTIFY);
	cr_assert_eq(parse(p, 3, QN, LDNS_RR_TYPE_A, &a, &why), -1, "opcode");

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	junk[0] = 0;
	junk[1] = 3;
	cr_assert_eq(rbl_dns_parse(junk, sizeof(junk), 3, QN, LDNS_RR_TYPE_A, &a, &why), -1);
	cr_assert_eq(rbl_dns_parse(junk, 5, 3, QN, LDNS_RR_TYPE_A, &a, &why), -1);
}

/* ---- replies ---- */

static char tmpdir[64];

static void
reply_setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_rbl.XXXXXX");
	cr_assert(mkdtemp(tmpdir) != NULL);
}

static void
reply_teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	(void)system(cmd);
}

static char *
write_map(const char *name, const char *text)
{
	static char path[128];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	cr_assert((fp = fopen(path, "w")) != NULL);
	fputs(text, fp);
	fclose(fp);
	return path;
}

static struct rbl *
make_rbl(struct conf *c)
{
	struct conf_err err;
	struct rbl *r;

	conf_set(c, "dns_servers", "127.0.0.1:22053");
	r = rbl_create(EV_DEFAULT, c, &err);
	cr_assert(r != NULL, "%s:%d: %s", err.file, err.line, err.reason);
	return r;
}

static struct sockaddr *
client(void)
{
	static struct sockaddr_storage ss;
	socklen_t sl;

	addr_parse_ip("192.0.2.1", &ss, &sl);
	return (struct sockaddr *)&ss;
}

static struct rbl_verdict
verdict(const char *site, const char *domain, int has_filter, const char *addrs, const char *txt)
{
	struct rbl_verdict v;

	memset(&v, 0, sizeof(v));
	v.score = 3;
	v.complete = 1;
	v.site = site;
	v.domain = v.shown = domain;
	v.weight = 3;
	v.has_filter = has_filter;
	v.addrs = addrs;
	v.txt = txt;
	return v;
}

TestSuite(reply, .init = reply_setup, .fini = reply_teardown);

Test(reply, postscreen_default)
{
	struct conf *c = conf_create();
	struct rbl *r;
	struct rbl_verdict v = verdict("zen.spamhaus.org", "zen.spamhaus.org", 0, "127.0.0.4", NULL);
	char buf[600];
	int hang = -1;

	conf_set(c, "screen_dnsbl_sites", "zen.spamhaus.org*3");
	r = make_rbl(c);
	cr_assert_eq(rbl_reply(r, c, &v, client(), 0, buf, sizeof(buf), &hang), 550);
	cr_assert_str_eq(buf, "550 5.7.1 Service unavailable; client [192.0.2.1] blocked using zen.spamhaus.org");
	cr_assert_eq(hang, 0);
	cr_assert_eq(rbl_reply(r, c, &v, client(), 1, buf, sizeof(buf), &hang), 521);
	cr_assert_str_eq(buf, "521 5.7.1 Service unavailable; client [192.0.2.1] blocked using zen.spamhaus.org");
	cr_assert_eq(hang, 1);
	rbl_free(r);
	conf_free(c);
}

Test(reply, map_keys_in_order)
{
	struct conf *c = conf_create();
	struct rbl *r;
	struct rbl_verdict v;
	char buf[600], spec[200];
	int hang;

	snprintf(spec, sizeof(spec), "texthash:%s", write_map("rbl_reply",
	    "# per code, per filter, per domain\n"
	    "zen.spamhaus.org=127.0.0.[10..11]  521 4.7.1 Service unavailable;\n"
	    "    $rbl_class [$rbl_what] blocked using $rbl_domain${rbl_reason?; $rbl_reason}\n"
	    "zen.spamhaus.org=127.0.0.4  554 5.7.1 XBL $rbl_what${rbl_txt?: $rbl_txt}\n"
	    "zen.spamhaus.org  554 $rbl_class $rbl_what blocked using ZEN - see https://www.spamhaus.org/query/ip/$client_address\n"
	    "bad.test  hello $rbl_code\n"
	    "syntax.test  550 ${rbl_code\n"
	    "long.test  550 5.7.1 ${rbl_txt}${rbl_txt}${rbl_txt}\n"));
	conf_set(c, "screen_dnsbl_sites", "zen.spamhaus.org=127.0.0.[10..11]*3 zen.spamhaus.org*1");
	conf_set(c, "rbl_reply_maps", spec);
	r = make_rbl(c);

	v = verdict("zen.spamhaus.org=127.0.0.[10..11]", "zen.spamhaus.org", 1, "127.0.0.10", "PBL listed");
	cr_assert_eq(rbl_reply(r, c, &v, client(), 0, buf, sizeof(buf), &hang), 521);
	cr_assert_str_eq(buf, "521 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using "
	    "zen.spamhaus.org; PBL listed");
	cr_assert_eq(hang, 1);

	/* domain=ADDR per matched address, even without a filter */
	v = verdict("zen.spamhaus.org", "zen.spamhaus.org", 0, "127.0.0.2 127.0.0.4", NULL);
	cr_assert_eq(rbl_reply(r, c, &v, client(), 0, buf, sizeof(buf), &hang), 554);
	cr_assert_str_eq(buf, "554 5.7.1 XBL 192.0.2.1");
	v.txt = "xbl <cbl>";
	rbl_reply(r, c, &v, client(), 0, buf, sizeof(buf), &hang);
	cr_assert_str_eq(buf, "554 5.7.1 XBL 192.0.2.1: xbl <cbl>");

	/* bare domain; enhanced code added */
	v = verdict("zen.spamhaus.org", "zen.spamhaus.org", 0, "127.0.0.2", NULL);
	cr_assert_eq(rbl_reply(r, c, &v, client(), 0, buf, sizeof(buf), &hang), 554);
	cr_assert_str_eq(buf, "554 5.7.1 Client host 192.0.2.1 blocked using ZEN - see "
	    "https://www.spamhaus.org/query/ip/192.0.2.1");

	/* malformed code */
	v = verdict("bad.test", "bad.test", 0, "127.0.0.2", NULL);
	cr_assert_eq(rbl_reply(r, c, &v, client(), 0, buf, sizeof(buf), &hang), 450);
	cr_assert_str_eq(buf, "450 4.7.1 Service unavailable");
	v = verdict("syntax.test", "syntax.test", 0, "127.0.0.2", NULL);
	cr_assert_eq(rbl_reply(r, c, &v, client(), 0, buf, sizeof(buf), &hang), 450);

	/* 510-byte cut, hostile TXT sanitised */
	{
		char txt[501];

		memset(txt, 'x', 500);
		txt[500] = '\0';
		txt[3] = '\r';
		v = verdict("long.test", "long.test", 0, "127.0.0.2", txt);
		cr_assert_eq(rbl_reply(r, c, &v, client(), 0, buf, sizeof(buf), &hang), 550);
		cr_assert_eq(strlen(buf), 510);
		cr_assert(strchr(buf, '\r') == NULL);
	}
	rbl_free(r);
	conf_free(c);
}

Test(reply, default_rbl_reply_and_stress_map)
{
	struct conf *c = conf_create();
	struct rbl *r;
	struct rbl_verdict v = verdict("zen.spamhaus.org=127.0.0.[2..11]", "zen.spamhaus.org", 1,
	    "127.0.0.4", NULL);
	char buf[600], spec[256];
	int hang;

	snprintf(spec, sizeof(spec), "${stress?texthash:%s}", write_map("stress_map",
	    "zen.spamhaus.org=127.0.0.4  521 4.7.1 Service unavailable; $rbl_class [$rbl_what] "
	    "blocked using $rbl_domain${rbl_reason?; $rbl_reason}\n"));
	conf_set(c, "screen_dnsbl_sites", "zen.spamhaus.org=127.0.0.[2..11]*3");
	conf_set(c, "rbl_reply_maps", spec);
	conf_set(c, "default_rbl_reply", "$rbl_code Service unavailable; $rbl_class [$rbl_what] "
	    "blocked using $rbl_domain${rbl_reason?; $rbl_reason}");
	r = make_rbl(c);
	cr_assert_eq(rbl_reply(r, c, &v, client(), 0, buf, sizeof(buf), &hang), 554);
	cr_assert_str_eq(buf, "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using "
	    "zen.spamhaus.org");
	cr_assert_eq(hang, 0);
	conf_set(c, "stress", "yes");
	cr_assert_eq(rbl_reply(r, c, &v, client(), 0, buf, sizeof(buf), &hang), 521);
	cr_assert_str_eq(buf, "521 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using "
	    "zen.spamhaus.org");
	cr_assert_eq(hang, 1);
	conf_set(c, "maps_rbl_reject_code", "421");
	conf_set(c, "stress", "");
	cr_assert_eq(rbl_reply(r, c, &v, client(), 0, buf, sizeof(buf), &hang), 421);
	cr_assert_str_eq(buf, "421 4.7.1 Service unavailable; Client host [192.0.2.1] blocked using "
	    "zen.spamhaus.org");
	cr_assert_eq(hang, 1);
	rbl_free(r);
	conf_free(c);
}

Test(reply, reply_map_hides_dqs_key)
{
	struct conf *c = conf_create();
	struct rbl *r;
	const char *map;
	char spec[200], buf[600];
	struct rbl_verdict v;

	map = write_map("shown", "key123.zen.dq.spamhaus.net  zen.spamhaus.org\n");
	snprintf(spec, sizeof(spec), "texthash:%s", map);
	conf_set(c, "screen_dnsbl_sites", "key123.zen.dq.spamhaus.net*3");
	conf_set(c, "screen_dnsbl_reply_map", spec);
	r = make_rbl(c);
	cr_assert_str_eq(r->sites.zones[0].shown, "zen.spamhaus.org");
	v = verdict("key123.zen.dq.spamhaus.net", "key123.zen.dq.spamhaus.net", 0, "127.0.0.2", NULL);
	v.shown = r->sites.zones[0].shown;
	rbl_reply(r, c, &v, client(), 0, buf, sizeof(buf), NULL);
	cr_assert_str_eq(buf, "550 5.7.1 Service unavailable; client [192.0.2.1] blocked using zen.spamhaus.org");
	rbl_free(r);
	conf_free(c);
}

Test(reply, code_checks)
{
	static const struct {
		const char *in, *out;
		int code;
	} cases[] = {
		{ "521 4.7.1 Go away", "521 5.7.1 Go away", 521 },
		{ "450 5.7.1 Later", "450 4.7.1 Later", 450 },
		{ "554 Go away", "554 5.7.1 Go away", 554 },
		{ "421 4.3.2 Busy", "421 4.3.2 Busy", 421 },
		{ "550 2.0.0 x", "550 5.0.0 x", 550 },
		{ "250 ok", NULL, -1 },
		{ "55 x", NULL, -1 },
		{ "5500 x", NULL, -1 },
		{ "550-x", NULL, -1 },
		{ "", NULL, -1 },
	};
	char buf[1100];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", cases[i].in);
		cr_assert_eq(rbl_reply_check(buf, sizeof(buf)), cases[i].code, "%s", cases[i].in);
		if (cases[i].out)
			cr_assert_str_eq(buf, cases[i].out);
	}
}

Test(reply, bad_sites_name_file_and_line)
{
	struct conf *c = conf_create();
	struct conf_err err;
	char path[] = "/tmp/test_rbl_cf.XXXXXX";
	int fd = mkstemp(path);
	FILE *fp = fdopen(fd, "w");

	fprintf(fp, "# test\n\npostscreen_dnsbl_sites = zen.spamhaus.org*3,\n   bl.test=127.0.0.[2..1]\n");
	fclose(fp);
	cr_assert_eq(conf_read_file(c, path, &err), 0, "%s", err.reason);
	cr_assert_null(rbl_create(EV_DEFAULT, c, &err));
	cr_assert_str_eq(err.file, path);
	cr_assert_eq(err.line, 3);
	cr_assert(strstr(err.reason, "bad DNSBL filter syntax"), "%s", err.reason);
	unlink(path);
	conf_free(c);
}
