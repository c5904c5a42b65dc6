/*
 * test_conf - the main.cf parser, -o overrides, the postscreen_ alias,
 * getters and conf_validate()'s typed checks, table-driven.  Config
 * files are written under a mkdtemp() directory that each test removes.
 */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "conf/lines.h"
#include "conf/log.h"

static char dir[64];
static char path[128];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_conf.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/doorman.cf", dir);
}

static void
teardown(void)
{
	char p[160];

	unlink(path);
	snprintf(p, sizeof(p), "%s/log", dir);
	unlink(p);
	rmdir(dir);
}

TestSuite(conf, .init = setup, .fini = teardown);

static void
write_file(const char *text)
{
	FILE *fp = fopen(path, "w");

	cr_assert_not_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static struct conf *
load(const char *text)
{
	struct conf *c = conf_create();
	struct conf_err err;
	char buf[1024];

	write_file(text);
	cr_assert_eq(conf_read_file(c, path, &err), 0, "read: %s",
	    conf_err_format(&err, buf, sizeof(buf)));
	return c;
}

Test(conf, good_files)
{
	static const struct {
		const char *file, *name, *want;
	} cases[] = {
		{ "a = b\n", "a", "b" },
		{ "a=b\n", "a", "b" },
		{ "a   =    b c   \n", "a", "b c" },
		{ "a = b\n  c\n", "a", "b c" },
		{ "a = b\n\tc\n  d\n", "a", "b c d" },
		{ "a = b\n# comment\n  c\n", "a", "b c" },
		{ "a = b\n\n  c\n", "a", "b c" },
		{ "# c\n\n   # indented comment\na = x # not a comment\n", "a",
		    "x # not a comment" },
		{ "a = 1\na = 2\n", "a", "2" },
		{ "a =\n", "a", "" },
		{ "a = b", "a", "b" },			/* no final newline */
		{ "a = b\r\n", "a", "b" },		/* CRLF */
		{ "a = x=y\n", "a", "x=y" },
		{ "postscreen_greet_wait = 3s\n", "screen_greet_wait", "3s" },
		{ "postscreen_greet_wait = 3s\n", "postscreen_greet_wait", "3s" },
		{ "screen_greet_wait = 4s\n", "postscreen_greet_wait", "4s" },
		{ "postscreen_dnsbl_whitelist_threshold = -2\n",
		    "screen_dnsbl_allowlist_threshold", "-2" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct conf *c = load(cases[i].file);
		const char *got = conf_raw(c, cases[i].name);

		cr_expect(got != NULL && strcmp(got, cases[i].want) == 0,
		    "file %zu %s: got %s, want %s", i, cases[i].name,
		    got ? got : "(null)", cases[i].want);
		cr_expect(conf_is_set(c, cases[i].name), "file %zu: not set", i);
		conf_free(c);
	}
}

Test(conf, syntax_errors)
{
	static const struct {
		const char *file;
		int line;
		const char *reason;
	} cases[] = {
		{ "a = b\nfoo\n", 2, "missing '=' after parameter name: \"foo\"" },
		{ "a = b\n\nfoo bar = x\n", 3,
		    "missing '=' after parameter name: \"foo\"" },
		{ "  a = b\n", 1, "continuation line" },
		{ "# c\n\n  a = b\n", 3, "continuation line" },
		{ "a-b = c\n", 1, "bad parameter name: \"a-b\"" },
		{ "= c\n", 1, "missing parameter name" },
		{ "a = b\nc = d\nx.y = 1\n", 3, "bad parameter name" },
		{ "a = b\n  c\nd\n", 3, "missing '='" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct conf *c = conf_create();
		struct conf_err err;

		write_file(cases[i].file);
		cr_expect_eq(conf_read_file(c, path, &err), -1,
		    "case %zu: accepted", i);
		cr_expect_eq(err.line, cases[i].line,
		    "case %zu: line: got %d, want %d", i, err.line,
		    cases[i].line);
		cr_expect(strstr(err.reason, cases[i].reason) != NULL,
		    "case %zu: got %s, want %s", i, err.reason,
		    cases[i].reason);
		cr_expect_str_eq(err.file, path);
		conf_free(c);
	}
}

Test(conf, nul_and_long_lines)
{
	struct conf *c = conf_create();
	struct conf_err err;
	FILE *fp;
	size_t i;

	fp = fopen(path, "w");
	fputs("a = b\nc = d", fp);
	fputc('\0', fp);
	fputs("\n", fp);
	fclose(fp);
	cr_expect_eq(conf_read_file(c, path, &err), -1);
	cr_expect_eq(err.line, 2, "got %d, want 2", err.line);
	cr_expect(strstr(err.reason, "NUL") != NULL, "got %s, want NUL",
	    err.reason);

	fp = fopen(path, "w");
	fputs("a = ", fp);
	for (i = 0; i < 70000; i++)
		fputc('x', fp);
	fputs("\n", fp);
	fclose(fp);
	cr_expect_eq(conf_read_file(c, path, &err), -1);
	cr_expect(strstr(err.reason, "longer than") != NULL,
	    "got %s, want longer than", err.reason);
	conf_free(c);
}

Test(conf, missing_file)
{
	struct conf *c = conf_create();
	struct conf_err err;

	cr_expect_eq(conf_read_file(c, "/nonexistent/doorman.cf", &err), -1);
	cr_expect_str_eq(err.file, "/nonexistent/doorman.cf");
	cr_expect(strstr(err.reason, "No such file") != NULL, "got %s",
	    err.reason);
	conf_free(c);
}

Test(conf, overrides)
{
	struct conf *c;
	struct conf_err err;
	const char *file;
	int line;

	c = conf_create();
	/* An override given before the file still wins. */
	cr_assert_eq(conf_override(c, "screen_greet_wait=9s", &err), 0);
	write_file("screen_greet_wait = 3s\nbackend_process_limit = 7\n");
	cr_assert_eq(conf_read_file(c, path, &err), 0);
	cr_expect_str_eq(conf_raw(c, "screen_greet_wait"), "9s");
	cr_expect_eq(conf_time(c, "screen_greet_wait"), 9);
	conf_origin(c, "screen_greet_wait", &file, &line);
	cr_expect_str_eq(file, "command line");
	cr_expect_eq(line, 0);
	conf_origin(c, "backend_process_limit", &file, &line);
	cr_expect_str_eq(file, path);
	cr_expect_eq(line, 2, "got %d, want 2", line);
	conf_origin(c, "smtpd_timeout", &file, &line);
	cr_expect_str_eq(file, "default");

	/* And one given after it too; postscreen_ works with -o. */
	cr_assert_eq(conf_override(c, "postscreen_greet_wait = 11s", &err), 0);
	cr_expect_eq(conf_time(c, "screen_greet_wait"), 11);
	cr_assert_eq(conf_override(c, "{ screen_greet_banner = a b c }", &err),
	    0);
	cr_expect_str_eq(conf_str(c, "screen_greet_banner"), "a b c");
	cr_assert_eq(conf_override(c, "stress=", &err), 0);
	cr_expect_str_eq(conf_str(c, "stress"), "");

	cr_expect_eq(conf_override(c, "novalue", &err), -1);
	cr_expect_str_eq(err.file, "command line");
	cr_expect(strstr(err.reason, "missing '='") != NULL, "got %s",
	    err.reason);
	cr_expect_eq(conf_override(c, "=x", &err), -1);
	conf_free(c);
}

Test(conf, stress_changes_defaults)
{
	static const struct {
		const char *name;
		long normal, stress;
	} cases[] = {
		{ "smtpd_timeout", 300, 10 },
		{ "smtpd_hard_error_limit", 20, 1 },
		{ "smtpd_junk_command_limit", 100, 1 },
		{ "smtpd_per_record_deadline", 0, 1 },
		{ "smtpd_starttls_timeout", 300, 10 },
		{ "screen_greet_wait", 6, 2 },
		{ "screen_command_time_limit", 300, 10 },
	};
	struct conf *c = conf_create();
	struct conf_err err;
	size_t i;
	long got;

	cr_expect_str_eq(conf_str(c, "stress"), "");
	for (i = 0; i < 2 * sizeof(cases) / sizeof(cases[0]); i++) {
		size_t k = i % (sizeof(cases) / sizeof(cases[0]));
		int stressed = i >= sizeof(cases) / sizeof(cases[0]);
		long want = stressed ? cases[k].stress : cases[k].normal;

		if (k == 0)
			conf_set(c, "stress", stressed ? "yes" : "");
		cr_assert_eq(conf_validate(c, &err), 0, "%s", err.reason);
		if (strcmp(cases[k].name, "smtpd_per_record_deadline") == 0)
			got = conf_bool(c, cases[k].name);
		else if (strstr(cases[k].name, "limit") &&
		    !strstr(cases[k].name, "time"))
			got = conf_int(c, cases[k].name);
		else
			got = conf_time(c, cases[k].name);
		cr_expect_eq(got, want, "%s stress=%d: got %ld, want %ld",
		    cases[k].name, stressed, got, want);
	}
	conf_free(c);
}

Test(conf, defaults)
{
	static const struct {
		const char *name, *want;
	} cases[] = {
		{ "mynetworks", "127.0.0.0/8 [::1]/128" },
		{ "screen_access_list", "permit_mynetworks" },
		{ "screen_post_queue_limit", "100" },
		{ "screen_pre_queue_limit", "0" },
		{ "screen_client_connection_count_limit", "50" },
		{ "backend_max_use", "100" },
		{ "backend_max_idle", "100s" },
		{ "backend_stress", "adaptive" },
		{ "screen_denylist_action", "ignore" },
		{ "screen_cache_map", "lmdb:/var/lib/doorman/screen_cache" },
		{ "syslog_name", "postfix-doorman" },
		{ "mail_name", "doorman" },
		{ "maps_rbl_reject_code", "554" },
		{ "screen_dnsbl_max_ttl", "1h" },
		{ "stress", "" },
		{ "default_rbl_reply",
		    "$rbl_code Service unavailable; $rbl_class [$rbl_what] blocked using $rbl_domain${rbl_reason?; $rbl_reason}" },
		{ "no_such_parameter", "" },
	};
	struct conf *c = conf_create();
	struct conf_err err;
	size_t i;

	cr_assert_eq(conf_validate(c, &err), 0, "defaults: %s", err.reason);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = conf_str(c, cases[i].name);

		cr_expect_str_eq(got, cases[i].want, "%s: got %s, want %s",
		    cases[i].name, got, cases[i].want);
	}
	cr_expect_eq(conf_time(c, "screen_cache_retention_time"), 7 * 86400);
	cr_expect_eq(conf_time(c, "screen_dnsbl_max_ttl"), 3600);
	cr_expect_eq(conf_time(c, "screen_cache_cleanup_interval"), 12 * 3600);
	cr_expect_eq(conf_bool(c, "respectful_logging"), 1);
	cr_expect_null(conf_raw(c, "no_such_parameter"));
	cr_expect_str_eq(conf_default("postscreen_greet_wait"),
	    "${stress?{2}:{6}}s");
	cr_expect_null(conf_default("no_such_parameter"));
	cr_expect(conf_str(c, "myhostname")[0] != '\0');
	{
		char want[600];

		snprintf(want, sizeof(want), "%s ESMTP doorman",
		    conf_str(c, "myhostname"));
		cr_expect_str_eq(conf_str(c, "screen_greet_banner"), want);
	}
	conf_free(c);
}

Test(conf, compat_defaults)
{
	struct conf *c = load("postscreen_blacklist_action = drop\n"
	    "postscreen_dnsbl_ttl = 5\nbackend_process_limit = 3\n");
	struct conf_err err;

	cr_assert_eq(conf_validate(c, &err), 0, "%s", err.reason);
	cr_expect_str_eq(conf_str(c, "screen_denylist_action"), "drop");
	cr_expect_eq(conf_time(c, "screen_dnsbl_max_ttl"), 5 * 3600);
	cr_expect_eq(conf_int(c, "screen_post_queue_limit"), 3);
	conf_free(c);
}

Test(conf, typed_errors)
{
	static const struct {
		const char *file;
		int line;
		const char *reason;
	} cases[] = {
		{ "x = 1\nscreen_greet_wait = 6x\n", 2,
		    "bad time value for parameter screen_greet_wait: \"6x\"" },
		{ "postscreen_greet_wait = 0\n", 1,
		    "bad time value for parameter screen_greet_wait: \"0\" (minimum 1s)" },
		{ "screen_greet_wait = \n", 1, "bad time value" },
		{ "screen_greet_wait = -1s\n", 1, "bad time value" },
		{ "screen_greet_wait = 5 s\n", 1, "bad time value" },
		{ "screen_greet_wait = 99999999999999999999s\n", 1,
		    "bad time value" },
		{ "respectful_logging = maybe\n", 1,
		    "bad boolean value for parameter respectful_logging: \"maybe\"" },
		{ "backend_process_limit = 0\n", 1,
		    "bad integer value for parameter backend_process_limit: \"0\" (minimum 1)" },
		{ "backend_max_use = 0\n", 1, "minimum 1" },
		{ "screen_post_queue_limit = 0\n", 1, "minimum 1" },
		{ "backend_process_limit = 0\n", 1, "minimum 1" },
		{ "backend_process_limit = 1x\n", 1, "bad integer value" },
		{ "rbl_reply_maps = /etc/x\n", 1,
		    "bad table for parameter rbl_reply_maps: \"/etc/x\"" },
		{ "rbl_reply_maps = regexp:/etc/x\n", 1,
		    "unsupported table type" },
		{ "screen_cache_map = texthash:/x\n", 1,
		    "unsupported table type" },
		{ "backend_proxy_protocol = haproxy3\n", 1,
		    "bad value for parameter backend_proxy_protocol: \"haproxy3\"" },
		{ "backend_stress = sometimes\n", 1, "allowed: adaptive|on|off" },
		{ "screen_greet_action = reject\n", 1,
		    "bad action for parameter screen_greet_action: \"reject\"" },
		{ "screen_blacklist_action = nope\n", 1, "bad action" },
		{ "listen = 127.0.0.1:2525, localhost:25\n", 1,
		    "bad address for parameter listen: \"localhost:25\"" },
		{ "listen = 127.0.0.1\n", 1, "missing port" },
		{ "backend_upstream = \n", 1, "bad address" },
		{ "mynetworks = 127.0.0.1/8\n", 1, "non-null host address bits" },
		{ "mynetworks = banana\n", 1, "bad network" },
		{ "screen_access_list = permit_mynetworks, allow\n", 1,
		    "bad access list item" },
		{ "dns_servers = 127.0.0.1:5300 nameserver\n", 1,
		    "bad address for parameter dns_servers" },
		{ "a = $b\nb = $a\nscreen_greet_banner = $a\n", 3,
		    "recursion too deep" },
		{ "screen_greet_banner = ${a\n", 1, "unbalanced" },
		{ "default_rbl_reply = ${rbl_reason?x\n", 1, "unbalanced" },
		{ "smtpd_timeout = ${stress?{5}:{1x}}s\n", 1,
		    "bad time value for parameter smtpd_timeout: \"1xs\"" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct conf *c = load(cases[i].file);
		struct conf_err err;

		cr_expect_eq(conf_validate(c, &err), -1, "case %zu (%s): accepted",
		    i, cases[i].file);
		cr_expect_eq(err.line, cases[i].line,
		    "case %zu: line: got %d, want %d", i, err.line,
		    cases[i].line);
		cr_expect(strstr(err.reason, cases[i].reason) != NULL,
		    "case %zu: got %s, want %s", i, err.reason,
		    cases[i].reason);
		conf_free(c);
	}
}

Test(conf, typed_good)
{
	struct conf *c = load(
	    "screen_greet_wait = 2m\n"
	    "backend_max_idle = 1w\n"
	    "screen_cache_retention_time = 2\n"
	    "screen_dnsbl_allowlist_threshold = -1\n"
	    "backend_proxy_protocol = haproxy-v2\n"
	    "listen = 127.0.0.1:2525, [::1]:2525 0.0.0.0:25\n"
	    "backend_upstream = unix:/run/mta.sock\n"
	    "mynetworks = 127.0.0.0/8, [::1]/128 192.0.2.1 2001:db8::/32 cidr:/etc/x\n"
	    "screen_access_list = permit_mynetworks, cidr:{ {192.0.2.0/24 reject} }\n"
	    "dns_servers = 127.0.0.1:5300 ::1 [::1]:53\n"
	    "screen_cache_map = redis:127.0.0.1:6379\n"
	    "screen_greet_action = continue\n"
	    "metrics_listen = 127.0.0.1:9100\n"
	    "respectful_logging = No\n"
	    "rbl_reply_maps = hash:/etc/postfix/rbl_reply_maps\n");
	struct conf_err err;
	char **l;

	cr_assert_eq(conf_validate(c, &err), 0, "%s: %s", err.file,
	    err.reason);
	cr_expect_eq(conf_time(c, "screen_greet_wait"), 120);
	cr_expect_eq(conf_time(c, "backend_max_idle"), 604800);
	cr_expect_eq(conf_time(c, "screen_cache_retention_time"), 2 * 86400);
	cr_expect_eq(conf_int(c, "screen_dnsbl_allowlist_threshold"), -1);
	cr_expect_eq(conf_bool(c, "respectful_logging"), 0);
	l = conf_list(c, "listen");
	cr_assert_not_null(l[0]);
	cr_expect_str_eq(l[0], "127.0.0.1:2525");
	cr_expect_str_eq(l[1], "[::1]:2525");
	cr_expect_str_eq(l[2], "0.0.0.0:25");
	cr_expect_null(l[3]);
	l = conf_list(c, "screen_access_list");
	cr_expect_str_eq(l[1], "cidr:{ {192.0.2.0/24 reject} }");
	cr_expect_null(l[2]);
	conf_free(c);
}

Test(conf, split_list)
{
	static const struct {
		const char *text;
		const char *want[5];
	} cases[] = {
		{ "", { NULL } },
		{ " , ,\t", { NULL } },
		{ "a", { "a", NULL } },
		{ "a,b c\td,,e", { "a", "b", "c", "d", "e" } },
		{ "inline:{ {a=b}, {c = d} } x", { "inline:{ {a=b}, {c = d} }",
		    "x", NULL } },
		{ "{ text with spaces }, y", { "text with spaces", "y", NULL } },
		{ "a{b c}d e", { "a{b c}d", "e", NULL } },
		{ "{unbalanced x", { "{unbalanced x", NULL } },
	};
	size_t i, k;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char **l = conf_split_list(cases[i].text);

		cr_assert_not_null(l);
		for (k = 0; k < 5; k++) {
			const char *w = cases[i].want[k];

			if (w == NULL && k > 0 && cases[i].want[k - 1] == NULL)
				break;
			if (w == NULL) {
				cr_expect_null(l[k], "case %zu item %zu: got %s, want end",
				    i, k, l[k]);
				break;
			}
			cr_expect(l[k] != NULL && strcmp(l[k], w) == 0,
			    "case %zu item %zu: got %s, want %s", i, k,
			    l[k] ? l[k] : "(end)", w);
			if (l[k] == NULL)
				break;
		}
		conf_free_list(l);
	}
}

Test(conf, parse_time)
{
	static const struct {
		const char *text;
		char unit;
		long want;
	} cases[] = {
		{ "10", 's', 10 }, { "10s", 'h', 10 }, { "2m", 's', 120 },
		{ "3", 'h', 10800 }, { "1d", 's', 86400 }, { "1w", 's', 604800 },
		{ "0", 's', 0 }, { "", 's', -1 }, { "s", 's', -1 },
		{ "1x", 's', -1 }, { "1ss", 's', -1 }, { "-1", 's', -1 },
		{ " 1", 's', -1 }, { "1 ", 's', -1 },
		{ "99999999999999999999999", 's', -1 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long got = conf_parse_time(cases[i].text, cases[i].unit);

		cr_expect_eq(got, cases[i].want, "\"%s\": got %ld, want %ld",
		    cases[i].text, got, cases[i].want);
	}
}

Test(conf, canonical_name)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "postscreen_greet_wait", "screen_greet_wait" },
		{ "screen_greet_wait", "screen_greet_wait" },
		{ "smtpd_timeout", "smtpd_timeout" },
		{ "postscreen_dnsbl_whitelist_threshold",
		    "screen_dnsbl_allowlist_threshold" },
		{ "postscreen_whitelist_interfaces",
		    "screen_allowlist_interfaces" },
		{ "postscreen", "postscreen" },
	};
	char buf[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = conf_canonical_name(cases[i].in, buf,
		    sizeof(buf));

		cr_expect_str_eq(got, cases[i].want, "got %s, want %s", got,
		    cases[i].want);
	}
}

Test(conf, unused_warning)
{
	struct conf *c = load("a = 1\nfoo = bar\nused = x\n"
	    "screen_greet_banner = $used ${a?{$inbranch}}\n");
	struct conf_err err;
	char logp[160], buf[4096], want[300];
	ssize_t n;
	int fd;

	cr_assert_eq(conf_override(c, "bogus=1", &err), 0);
	snprintf(logp, sizeof(logp), "%s/log", dir);
	cr_assert_eq(log_open("test/conf", logp), 0);
	cr_expect_eq(conf_validate(c, &err), 0, "%s", err.reason);
	log_close();
	fd = open(logp, O_RDONLY);
	cr_assert(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	cr_assert(n > 0);
	buf[n] = '\0';
	snprintf(want, sizeof(want), "warning: %s:2: unused parameter: foo=bar", path);
	cr_expect(strstr(buf, want) != NULL, "got %s, want %s", buf, want);
	cr_expect(strstr(buf, "warning: command line: unused parameter: bogus=1") != NULL,
	    "got %s, want the -o warning", buf);
	cr_expect(strstr(buf, "used=x") == NULL, "got %s: used warned", buf);
	cr_expect(strstr(buf, "a=1") == NULL, "got %s: a warned", buf);
	conf_free(c);
}

Test(conf, names)
{
	struct conf *c = load("zzz_custom = 1\n");
	const char **names;
	size_t n, i;
	int seen = 0;

	n = conf_names(c, &names);
	cr_expect(n > 80, "got %zu names", n);
	for (i = 1; i < n; i++)
		cr_expect(strcmp(names[i - 1], names[i]) < 0, "not sorted: %s %s",
		    names[i - 1], names[i]);
	for (i = 0; i < n; i++)
		if (strcmp(names[i], "zzz_custom") == 0)
			seen = 1;
	cr_expect(seen, "set name missing from conf_names");
	cr_expect_null(names[n]);
	conf_free(c);
}

Test(conf, getters_stay_valid)
{
	struct conf *c = conf_create();
	const char *a, *b;
	char **l;

	a = conf_str(c, "smtpd_timeout");
	l = conf_list(c, "mynetworks");
	conf_set(c, "stress", "yes");
	b = conf_str(c, "smtpd_timeout");
	cr_expect_str_eq(a, "300s");	/* old pointer still readable */
	cr_expect_str_eq(b, "10s");
	cr_expect_str_eq(l[0], "127.0.0.0/8");
	conf_free(c);
}

Test(conf, sample_config_is_valid)
{
	struct conf *c = conf_create();
	struct conf_err err;
	char buf[1024];

	if (access("conf/doorman.cf", R_OK) != 0)
		cr_skip_test("run from the top of the tree to check conf/doorman.cf");
	cr_assert_eq(conf_read_file(c, "conf/doorman.cf", &err), 0, "%s",
	    conf_err_format(&err, buf, sizeof(buf)));
	cr_expect_eq(conf_validate(c, &err), 0, "%s",
	    conf_err_format(&err, buf, sizeof(buf)));
	cr_expect_str_eq(conf_str(c, "backend_upstream"), "127.0.0.1:10025");
	conf_free(c);
}

Test(conf, err_format)
{
	static const struct {
		struct conf_err err;
		const char *want;
	} cases[] = {
		{ { "/etc/doorman/doorman.cf", 3, "bad" },
		    "/etc/doorman/doorman.cf:3: bad" },
		{ { "command line", 0, "bad" }, "command line: bad" },
		{ { "", 0, "bad" }, "bad" },
	};
	char buf[1024];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		conf_err_format(&cases[i].err, buf, sizeof(buf));
		cr_expect_str_eq(buf, cases[i].want, "got %s, want %s", buf,
		    cases[i].want);
	}
}

/* A file-level table error is anchored to the line that names the table. */
Test(conf, err_anchor)
{
	struct conf *c = load("# x\nscreen_access_list = cidr:/nx\n");
	struct conf_err err;

	conf_err_set(&err, "/nx", 0, "cannot open file: %s", "No such file or directory");
	conf_err_anchor(c, "screen_access_list", &err);
	cr_expect_str_eq(err.file, path);
	cr_expect_eq(err.line, 2);
	cr_expect_str_eq(err.reason,
	    "screen_access_list: /nx: cannot open file: No such file or directory");
	/* An error inside the table keeps its own file and line. */
	conf_err_set(&err, "/x.cidr", 5, "bad address");
	conf_err_anchor(c, "screen_access_list", &err);
	cr_expect_str_eq(err.file, "/x.cidr");
	cr_expect_eq(err.line, 5);
	/* A default has no line to point at: unchanged. */
	conf_err_set(&err, "/nx", 0, "cannot open file");
	conf_err_anchor(c, "mynetworks", &err);
	cr_expect_str_eq(err.file, "/nx");
	conf_free(c);
}

Test(conf, control_socket_length)
{
	char def[300];
	struct conf *c;
	struct conf_err err;

	snprintf(def, sizeof(def), "data_directory = /tmp/%0100d\n", 0);
	c = load(def);
	cr_expect_eq(conf_validate(c, &err), -1);
	cr_expect_eq(err.line, 1);
	cr_expect(strstr(err.reason, "data_directory") != NULL &&
	    strstr(err.reason, "longer than 107 bytes") != NULL, "got %s",
	    err.reason);
	conf_free(c);
	c = load("data_directory = /tmp/x\n");
	cr_expect_eq(conf_validate(c, &err), 0, "%s", err.reason);
	conf_free(c);
}
