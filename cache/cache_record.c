/*
 * cache_record - the cached record and its rules, free of any I/O:
 * postscreen's "P;D;I;N;B" text, when a test is due, and when cleanup
 * drops an entry.  Everything here is a pure function so that the
 * semantics can be tested without a database.
 */
#include <stdio.h>
#include <string.h>

#include "cache/cache.h"

/* Largest value a field may hold: anything longer is garbled. */
#define FIELD_DIGITS_MAX	18

int
cache_record_encode(const struct cache_record *rec, char *buf, size_t len)
{
	int	n;

	n = snprintf(buf, len, "%lld;%lld;%lld;%lld;%lld",
	    (long long)rec->expiry[CACHE_PREGREET],
	    (long long)rec->expiry[CACHE_DNSBL],
	    (long long)rec->expiry[CACHE_PIPELINING],
	    (long long)rec->expiry[CACHE_NON_SMTP],
	    (long long)rec->expiry[CACHE_BARE_NEWLINE]);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return n;
}

int
cache_record_decode(const char *text, size_t len, struct cache_record *rec)
{
	size_t	i, digits;
	int	field, garbled;
	long long val;

	for (field = 0; field < CACHE_NTESTS; field++)
		rec->expiry[field] = CACHE_DISABLED;
	/* Some writers store the terminating NUL with the value. */
	if (len > 0 && text[len - 1] == '\0')
		len--;
	if (len == 0 || len > CACHE_RECORD_MAX)
		return -1;
	for (i = 0; i < len; i++)
		if ((text[i] < '0' || text[i] > '9') && text[i] != ';')
			return -1;

	/*
	 * Field by field; an empty or overlong field stays 1.  Fields past
	 * the fifth are ignored, so that a later writer may add tests.
	 */
	field = 0;
	val = 0;
	digits = 0;
	garbled = 0;
	for (i = 0; i <= len && field < CACHE_NTESTS; i++) {
		if (i == len || text[i] == ';') {
			if (digits > 0 && !garbled)
				rec->expiry[field] = (time_t)val;
			field++;
			val = 0;
			digits = 0;
			garbled = 0;
			continue;
		}
		if (++digits > FIELD_DIGITS_MAX)
			garbled = 1;
		else
			val = val * 10 + (text[i] - '0');
	}
	return 0;
}

void
cache_record_init(struct cache_record *rec, unsigned enabled)
{
	int	t;

	for (t = 0; t < CACHE_NTESTS; t++)
		rec->expiry[t] = (enabled & CACHE_BIT(t)) ? CACHE_NEW : CACHE_DISABLED;
}

int
cache_test_due(const struct cache_record *rec, enum cache_test t, int enabled,
    time_t now)
{
	if ((unsigned)t >= CACHE_NTESTS || !enabled)
		return 0;
	return now > rec->expiry[t];
}

unsigned
cache_due_mask(const struct cache_record *rec, unsigned enabled, time_t now)
{
	unsigned due = 0;
	int	t;

	for (t = 0; t < CACHE_NTESTS; t++)
		if (cache_test_due(rec, t, (enabled & CACHE_BIT(t)) != 0, now))
			due |= CACHE_BIT(t);
	return due;
}

int
cache_record_is_new(const struct cache_record *rec, unsigned enabled)
{
	int	t;

	for (t = 0; t < CACHE_NTESTS; t++)
		if ((enabled & CACHE_BIT(t)) && rec->expiry[t] == CACHE_NEW)
			return 1;
	return 0;
}

time_t
cache_record_max_expiry(const struct cache_record *rec)
{
	time_t	max = 0;
	int	t;

	for (t = 0; t < CACHE_NTESTS; t++)
		if (rec->expiry[t] > CACHE_DISABLED && rec->expiry[t] > max)
			max = rec->expiry[t];
	return max;
}

int
cache_cleanup_drop(const struct cache_record *rec, unsigned enabled, time_t now,
    long retention)
{
	return cache_due_mask(rec, enabled, now - (time_t)retention) != 0;
}
