/*
 * test_cache_record - the cache record's text form and the rules built
 * on it (due, new, cleanup), which need no database.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "cache/cache.h"

#define ALL	CACHE_ALL_TESTS
#define EARLY	(CACHE_BIT(CACHE_PREGREET) | CACHE_BIT(CACHE_DNSBL))

static void
decode_str(const char *s, struct cache_record *r, int want_rc)
{
	cr_assert_eq(cache_record_decode(s, strlen(s), r), want_rc, "decode \"%s\"", s);
}

Test(record, encode_is_postscreens_form)
{
	struct cache_record r = { { 1700000000, 1700003600, 0, 1, 1 } };
	char	buf[CACHE_RECORD_MAX];
	int	n;

	n = cache_record_encode(&r, buf, sizeof(buf));
	cr_assert_str_eq(buf, "1700000000;1700003600;0;1;1");
	cr_assert_eq(n, (int)strlen(buf));
	cr_assert_eq(cache_record_encode(&r, buf, 10), -1, "short buffer must fail");
}

Test(record, round_trip)
{
	struct cache_record a = { { 5, 0, 1, 2000000000, 99 } }, b;
	char	buf[CACHE_RECORD_MAX];

	cr_assert_gt(cache_record_encode(&a, buf, sizeof(buf)), 0);
	decode_str(buf, &b, 0);
	cr_assert_eq(memcmp(&a, &b, sizeof(a)), 0);
}

Test(record, missing_fields_read_as_1)
{
	struct cache_record r;

	decode_str("100;200", &r, 0);
	cr_assert_eq(r.expiry[CACHE_PREGREET], 100);
	cr_assert_eq(r.expiry[CACHE_DNSBL], 200);
	cr_assert_eq(r.expiry[CACHE_PIPELINING], 1);
	cr_assert_eq(r.expiry[CACHE_NON_SMTP], 1);
	cr_assert_eq(r.expiry[CACHE_BARE_NEWLINE], 1);
}

Test(record, empty_and_overlong_fields_read_as_1)
{
	struct cache_record r;

	decode_str("100;;0;99999999999999999999999;7", &r, 0);
	cr_assert_eq(r.expiry[0], 100);
	cr_assert_eq(r.expiry[1], 1);
	cr_assert_eq(r.expiry[2], 0);
	cr_assert_eq(r.expiry[3], 1);
	cr_assert_eq(r.expiry[4], 7);
}

Test(record, extra_fields_ignored)
{
	struct cache_record r;

	decode_str("1;2;3;4;5;6;7", &r, 0);
	cr_assert_eq(r.expiry[4], 5);
}

Test(record, garbage_is_all_1_and_flagged)
{
	static const char *bad[] = { "", "abc", "100;x;3", "-5;1;1;1;1", "1 2", "100;200\n" };
	struct cache_record r;
	size_t	i;
	int	t;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		decode_str(bad[i], &r, -1);
		for (t = 0; t < CACHE_NTESTS; t++)
			cr_assert_eq(r.expiry[t], 1, "\"%s\" field %d", bad[i], t);
	}
}

Test(record, nul_bytes_and_length)
{
	struct cache_record r;
	char	big[CACHE_RECORD_MAX + 10];

	/* One trailing NUL (as some writers store it) is fine, one inside is not. */
	cr_assert_eq(cache_record_decode("5;6\0", 4, &r), 0);
	cr_assert_eq(r.expiry[1], 6);
	cr_assert_eq(cache_record_decode("5\0;6", 4, &r), -1);
	memset(big, '1', sizeof(big));
	cr_assert_eq(cache_record_decode(big, sizeof(big), &r), -1);
}

Test(record, init_marks_disabled_tests)
{
	struct cache_record r;

	cache_record_init(&r, EARLY);
	cr_assert_eq(r.expiry[CACHE_PREGREET], CACHE_NEW);
	cr_assert_eq(r.expiry[CACHE_DNSBL], CACHE_NEW);
	cr_assert_eq(r.expiry[CACHE_PIPELINING], CACHE_DISABLED);
	cr_assert(cache_record_is_new(&r, EARLY));
	cr_assert_not(cache_record_is_new(&r, CACHE_BIT(CACHE_PIPELINING)));
}

Test(due, enabled_and_expired)
{
	struct cache_record r = { { 1000, 2000, 0, 1, 1 } };

	cr_assert_not(cache_test_due(&r, CACHE_PREGREET, 1, 1000), "now == expiry: still valid");
	cr_assert(cache_test_due(&r, CACHE_PREGREET, 1, 1001));
	cr_assert_not(cache_test_due(&r, CACHE_PREGREET, 0, 5000), "disabled is never due");
	cr_assert(cache_test_due(&r, CACHE_PIPELINING, 1, 10), "never passed");
	cr_assert(cache_test_due(&r, CACHE_NON_SMTP, 1, 10), "disabled when written, enabled now");
	cr_assert_not(cache_test_due(&r, CACHE_NTESTS, 1, 10));
}

Test(due, mask_pass_old)
{
	struct cache_record r = { { 1000, 2000, 0, 1, 1 } };

	cr_assert_eq(cache_due_mask(&r, EARLY, 900), 0u, "nothing due: PASS OLD");
	cr_assert_eq(cache_due_mask(&r, EARLY, 1500), CACHE_BIT(CACHE_PREGREET));
	cr_assert_eq(cache_due_mask(&r, EARLY, 2500), (unsigned)EARLY);
	cr_assert_eq(cache_due_mask(&r, ALL, 900),
	    CACHE_BIT(CACHE_PIPELINING) | CACHE_BIT(CACHE_NON_SMTP) | CACHE_BIT(CACHE_BARE_NEWLINE));
	cr_assert_eq(cache_due_mask(&r, 0, 99999), 0u);
}

Test(due, max_expiry_ignores_markers)
{
	struct cache_record r = { { 1, 0, 1, 0, 1 } }, s = { { 50, 0, 70, 1, 60 } };

	cr_assert_eq(cache_record_max_expiry(&r), 0);
	cr_assert_eq(cache_record_max_expiry(&s), 70);
}

Test(cleanup, drop_rule)
{
	/* now 10000, retention 1000: entries are judged at time 9000. */
	struct cache_record fresh = { { 9500, 9500, 1, 1, 1 } };
	struct cache_record stale_in_retention = { { 9200, 9500, 1, 1, 1 } };
	struct cache_record old = { { 8999, 20000, 1, 1, 1 } };
	struct cache_record never = { { 0, 20000, 1, 1, 1 } };

	cr_assert_not(cache_cleanup_drop(&fresh, EARLY, 10000, 1000));
	cr_assert_not(cache_cleanup_drop(&stale_in_retention, EARLY, 10000, 1000),
	    "expired but within the retention time: kept");
	cr_assert(cache_cleanup_drop(&old, EARLY, 10000, 1000));
	cr_assert_not(cache_cleanup_drop(&old, CACHE_BIT(CACHE_DNSBL), 10000, 1000),
	    "only enabled tests count");
	cr_assert(cache_cleanup_drop(&never, EARLY, 10000, 1000));
	cr_assert(cache_cleanup_drop(&fresh, ALL, 10000, 1000),
	    "deep test disabled when written, enabled now: due, dropped");
	cr_assert_not(cache_cleanup_drop(&old, 0, 10000, 1000), "nothing enabled: kept");
	cr_assert(cache_cleanup_drop(&stale_in_retention, EARLY, 10000, 0));
}
