/*
 * test_table - lookup tables: texthash (continuations, comments, case),
 * cidr files and inline cidr (IPv4, IPv6, first match wins, negation,
 * host bits), inline:{...} forms, static:, hash:/lmdb: read from their
 * postmap source, and every error with its line number.  Files live
 * under a mkdtemp() directory removed after each test.
 */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/log.h"
#include "conf/table.h"

static char dir[64];
static char path[128];
static char logp[128];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_table.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/map", dir);
	snprintf(logp, sizeof(logp), "%s/log", dir);
}

static void
teardown(void)
{
	log_close();
	unlink(path);
	unlink(logp);
	rmdir(dir);
}

TestSuite(table, .init = setup, .fini = teardown);

static void
write_file(const char *text)
{
	FILE *fp = fopen(path, "w");

	cr_assert_not_null(fp);
	fputs(text, fp);
	fclose(fp);
}

struct lcase {
	const char *key, *want;		/* want NULL: not found */
};

static void
check(struct table *t, const struct lcase *cases, size_t n)
{
	const char *got;
	size_t i;
	int found;

	for (i = 0; i < n; i++) {
		got = NULL;
		found = table_lookup(t, cases[i].key, &got);
		if (cases[i].want == NULL)
			cr_expect_eq(found, 0, "%s %s: got %s, want not found",
			    table_name(t), cases[i].key, got);
		else
			cr_expect(found == 1 && strcmp(got, cases[i].want) == 0,
			    "%s %s: got %s, want %s", table_name(t),
			    cases[i].key, found ? got : "(not found)",
			    cases[i].want);
	}
}

static struct table *
open_ok(const char *spec)
{
	struct conf_err err;
	struct table *t = table_open(spec, &err);

	cr_assert_not_null(t, "%s: %s, line %d: %s", spec, err.file, err.line,
	    err.reason);
	return t;
}

Test(table, texthash)
{
	static const struct lcase cases[] = {
		{ "zen.spamhaus.org=127.0.0.10",
		    "521 4.7.1 Service unavailable; $rbl_class [$rbl_what] blocked using $rbl_domain${rbl_reason?; $rbl_reason}" },
		{ "zen.spamhaus.org", "554 $rbl_class $rbl_what blocked" },
		{ "ZEN.Spamhaus.ORG", "554 $rbl_class $rbl_what blocked" },
		{ "key", "value # not a comment" },
		{ "dup", "first" },
		{ "missing", NULL },
		{ "", NULL },
	};
	struct table *t;
	char spec[160];

	write_file("# a comment\n"
	    "zen.spamhaus.org=127.0.0.10  521 4.7.1 Service unavailable;\n"
	    "    $rbl_class [$rbl_what] blocked using $rbl_domain${rbl_reason?; $rbl_reason}\n"
	    "\n"
	    "   # indented comment\n"
	    "Zen.Spamhaus.Org             554 $rbl_class $rbl_what blocked\n"
	    "key\tvalue # not a comment\n"
	    "dup first\n"
	    "dup second\n");
	snprintf(spec, sizeof(spec), "texthash:%s", path);
	t = open_ok(spec);
	check(t, cases, sizeof(cases) / sizeof(cases[0]));
	cr_expect_eq(table_size(t), 4, "got %zu, want 4", table_size(t));
	cr_expect_str_eq(table_name(t), spec);
	table_close(t);
}

Test(table, postmap_types_read_source)
{
	static const char *types[] = { "hash", "btree", "lmdb", "cdb",
	    "proxy:hash" };
	static const struct lcase cases[] = {
		{ "a.example", "554 listed" }, { "b.example", NULL },
	};
	char spec[160], buf[4096], want[400];
	struct table *t;
	size_t i;
	ssize_t n;
	int fd;

	write_file("a.example 554 listed\n");
	cr_assert_eq(log_open("test/table", logp), 0);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		snprintf(spec, sizeof(spec), "%s:%s", types[i], path);
		t = open_ok(spec);
		check(t, cases, sizeof(cases) / sizeof(cases[0]));
		table_close(t);
	}
	log_close();
	fd = open(logp, O_RDONLY);
	cr_assert(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	cr_assert(n > 0);
	buf[n] = '\0';
	snprintf(want, sizeof(want),
	    "hash:%s: reading the postmap source file %s as texthash", path,
	    path);
	cr_expect(strstr(buf, want) != NULL, "got %s, want %s", buf, want);
}

Test(table, missing_source)
{
	struct conf_err err;
	struct table *t;

	t = table_open("hash:/nonexistent/rbl_reply_maps", &err);
	cr_expect_null(t);
	cr_expect_str_eq(err.file, "/nonexistent/rbl_reply_maps");
	cr_expect(strstr(err.reason, "postmap source file of hash:/nonexistent/rbl_reply_maps") != NULL,
	    "got %s, want the source named", err.reason);
	cr_expect(strstr(err.reason, "No such file") != NULL, "got %s",
	    err.reason);
	t = table_open("texthash:/nonexistent/x", &err);
	cr_expect_null(t);
	cr_expect_str_eq(err.file, "/nonexistent/x");
}

Test(table, cidr_file)
{
	static const struct lcase cases[] = {
		{ "192.0.2.1", "reject" },
		{ "192.0.2.200", "permit" },	/* first match wins */
		{ "192.0.2.5", "reject" },
		{ "198.51.100.7", "dunno" },
		{ "2001:db8::1", "v6" },
		{ "[2001:db8::1]", "v6" },
		{ "2001:db8:1::1", "v6wide" },
		{ "::ffff:192.0.2.1", "reject" },	/* mapped = IPv4 */
		{ "::1", "loop6" },
		{ "10.1.2.3", "not-192" },
		{ "not an address", NULL },
		{ "", NULL },
	};
	struct table *t;
	char spec[160];

	write_file("# access list\n"
	    "192.0.2.128/25  permit\n"
	    "192.0.2.0/24    reject\n"
	    "198.51.100.7    dunno\n"
	    "[2001:db8::]/64 v6\n"
	    "2001:db8::/32   v6wide\n"
	    "[::1]           loop6\n"
	    "!192.0.0.0/8    not-192\n");
	snprintf(spec, sizeof(spec), "cidr:%s", path);
	t = open_ok(spec);
	check(t, cases, sizeof(cases) / sizeof(cases[0]));
	cr_expect_eq(table_size(t), 7);
	table_close(t);
}

Test(table, inline_forms)
{
	static const struct lcase cases[] = {
		{ "k", "v" }, { "K2", "v 2" }, { "x", NULL },
	};
	static const char *specs[] = {
		"inline:{ {k=v}, {k2 = v 2} }",
		"inline:{ { k = v }, { k2 = v 2 } }",
		"inline:{k=v, {k2=v 2}}",
	};
	static const struct lcase cidr_cases[] = {
		{ "192.0.2.9", "reject" }, { "203.0.113.1", "dunno" },
		{ "2001:db8::5", "six" },
	};
	struct table *t;
	size_t i;

	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		t = open_ok(specs[i]);
		check(t, cases, sizeof(cases) / sizeof(cases[0]));
		cr_expect_eq(table_size(t), 2, "%s: got %zu, want 2", specs[i],
		    table_size(t));
		table_close(t);
	}
	t = open_ok("inline:{k=v, k2=v2}");
	cr_expect_eq(table_size(t), 2);
	table_close(t);

	t = open_ok("cidr:{ {192.0.2.0/24 reject}, {[2001:db8::]/32 six}, {0.0.0.0/0 dunno} }");
	check(t, cidr_cases, sizeof(cidr_cases) / sizeof(cidr_cases[0]));
	table_close(t);

	t = open_ok("static:all");
	{
		static const struct lcase sc[] = { { "any", "all" },
		    { "", "all" } };

		check(t, sc, 2);
	}
	table_close(t);
	t = open_ok("static:{ text with spaces }");
	{
		static const struct lcase sc[] = { { "x", "text with spaces" } };

		check(t, sc, 1);
	}
	table_close(t);
}

Test(table, errors)
{
	static const struct {
		const char *type, *file;
		int line;
		const char *reason;
	} cases[] = {
		{ "texthash", "a b\nnovalue\n", 2, "no lookup result after \"novalue\"" },
		{ "texthash", "  a b\n", 1, "continuation line" },
		{ "cidr", "192.0.2.0/24 ok\n192.0.2.1/24 x\n", 2,
		    "non-null host address bits in \"192.0.2.1/24\"" },
		{ "cidr", "\n\n2001:db8::1/32 x\n", 3,
		    "non-null host address bits" },
		{ "cidr", "banana x\n", 1, "bad network address" },
		{ "cidr", "192.0.2.0/33 x\n", 1, "bad network prefix length" },
		{ "cidr", "192.0.2.0/24\n", 1, "no lookup result" },
		{ "hash", "a b\n# c\nbad\n", 3, "no lookup result" },
	};
	struct conf_err err;
	struct table *t;
	char spec[160];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_file(cases[i].file);
		snprintf(spec, sizeof(spec), "%s:%s", cases[i].type, path);
		t = table_open(spec, &err);
		cr_expect_null(t, "case %zu: accepted", i);
		table_close(t);
		cr_expect_str_eq(err.file, path, "case %zu: got %s, want %s", i,
		    err.file, path);
		cr_expect_eq(err.line, cases[i].line,
		    "case %zu: line: got %d, want %d", i, err.line,
		    cases[i].line);
		cr_expect(strstr(err.reason, cases[i].reason) != NULL,
		    "case %zu: got %s, want %s", i, err.reason,
		    cases[i].reason);
	}
}

Test(table, spec_errors)
{
	static const struct {
		const char *spec, *reason;
	} cases[] = {
		{ "nocolon", "expected type:name" },
		{ ":x", "expected type:name" },
		{ "regexp:/etc/x", "unsupported table type \"regexp\"" },
		{ "inline:k=v", "expected {...}" },
		{ "inline:{ {k} }", "missing '='" },
		{ "inline:{ {=v} }", "missing key" },
		{ "inline:{ {k=v}", "expected {...}" },
		{ "cidr:{ {banana x} }", "bad network address" },
		{ "cidr:", "missing file name" },
		{ "texthash:", "missing file name" },
	};
	struct conf_err err;
	struct table *t;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		t = table_open(cases[i].spec, &err);
		cr_expect_null(t, "%s: accepted", cases[i].spec);
		table_close(t);
		cr_expect(strstr(err.reason, cases[i].reason) != NULL,
		    "%s: got %s, want %s", cases[i].spec, err.reason,
		    cases[i].reason);
	}
}

Test(table, hostile_files)
{
	struct conf_err err;
	struct table *t;
	char spec[160];
	FILE *fp;
	size_t i;

	/* A NUL byte, and a 100 KB line: errors, never truncation. */
	fp = fopen(path, "w");
	fputs("a b\nc d", fp);
	fputc('\0', fp);
	fputs("e\n", fp);
	fclose(fp);
	snprintf(spec, sizeof(spec), "texthash:%s", path);
	t = table_open(spec, &err);
	cr_expect_null(t);
	cr_expect_eq(err.line, 2, "got %d, want 2", err.line);
	table_close(t);

	fp = fopen(path, "w");
	for (i = 0; i < 100000; i++)
		fputc('k', fp);
	fputs(" v\n", fp);
	fclose(fp);
	t = table_open(spec, &err);
	cr_expect_null(t);
	cr_expect(strstr(err.reason, "longer than") != NULL, "got %s",
	    err.reason);
	table_close(t);

	/* Continuations that add up past the limit. */
	fp = fopen(path, "w");
	fputs("k v\n", fp);
	for (i = 0; i < 20; i++) {
		size_t j;

		fputc(' ', fp);
		for (j = 0; j < 5000; j++)
			fputc('x', fp);
		fputc('\n', fp);
	}
	fclose(fp);
	t = table_open(spec, &err);
	cr_expect_null(t);
	cr_expect_eq(err.line, 1, "got %d, want 1", err.line);
	table_close(t);
}

/* Random inline specs: a table or an error, never a crash. */
Test(table, garbage_specs_never_crash)
{
	static const char *prefix[] = { "inline:", "cidr:", "static:" };
	static const char alpha[] = "{}= ,k/v1.:[]!";
	unsigned int seed = 4242;
	struct conf_err err;
	struct table *t;
	const char *v;
	char spec[48];
	int i, k, n;

	for (i = 0; i < 5000; i++) {
		n = snprintf(spec, sizeof(spec), "%s", prefix[i % 3]);
		k = n + (int)(rand_r(&seed) % (sizeof(spec) - n - 1));
		for (; n < k; n++)
			spec[n] = alpha[rand_r(&seed) % (sizeof(alpha) - 1)];
		spec[n] = '\0';
		t = table_open(spec, &err);
		if (t == NULL) {
			cr_expect(err.reason[0] != '\0', "%s: no reason", spec);
			continue;
		}
		(void)table_lookup(t, "k", &v);
		(void)table_lookup(t, "1.1.1.1", &v);
		table_close(t);
	}
}
