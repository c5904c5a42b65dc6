/*
 * test_log - postscreen's time format, C escapes of client bytes, and
 * the maillog_file line format (one write per line, also when several
 * processes append to the same file), and lines held back until a
 * flush, a full buffer or the process's end.
 */
#include <criterion/criterion.h>

#include <sys/wait.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/log.h"

Test(log, time_format)
{
	static const struct {
		double t;
		const char *want;
	} cases[] = {
		{ 0.21, "0.21" }, { 1.5, "1.5" }, { 6, "6" }, { 6.0001, "6" },
		{ 0.01, "0.01" }, { 0.05, "0.05" }, { 12, "12" }, { 12.04, "12" },
		{ 123, "123" }, { 123.7, "124" }, { 0.1, "0.1" }, { 0.5, "0.5" },
		{ 1.25, "1.2" }, { 1.26, "1.3" }, { 9.96, "10" }, { 0.996, "1" },
		{ 0.123, "0.12" }, { 0.001, "0" }, { 0, "0" }, { -1, "0" },
		{ 2.0, "2" }, { 10.5, "10" }, { 0.62, "0.62" },
	};
	char buf[32];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		log_time_format(cases[i].t, buf, sizeof(buf));
		cr_expect_str_eq(buf, cases[i].want, "%g: got %s, want %s",
		    cases[i].t, buf, cases[i].want);
	}
}

Test(log, escape)
{
	static const struct {
		const char *in;
		size_t len, max, buflen;
		const char *want;
	} cases[] = {
		{ "EHLO example.com\r\n", 18, 100, 100, "EHLO example.com\\r\\n" },
		{ "a\tb\\c", 5, 100, 100, "a\\tb\\\\c" },
		{ "\0\001\177\377", 4, 100, 100, "\\000\\001\\177\\377" },
		{ "abcdef", 6, 3, 100, "abc" },
		{ "ab\ncd", 5, 100, 4, "ab" },	/* escape not cut in half */
		{ "abc", 3, 100, 4, "abc" },
		{ "", 0, 100, 100, "" },
	};
	char buf[100];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		log_escape(cases[i].in, cases[i].len, cases[i].max, buf,
		    cases[i].buflen);
		cr_expect_str_eq(buf, cases[i].want, "case %zu: got %s, want %s",
		    i, buf, cases[i].want);
	}
}

static char dir[64], logp[128];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_log.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(logp, sizeof(logp), "%s/maillog", dir);
}

static void
teardown(void)
{
	log_buffer(0);
	log_close();
	unlink(logp);
	rmdir(dir);
}

static size_t
slurp(char *buf, size_t len)
{
	int fd = open(logp, O_RDONLY);
	ssize_t n;
	size_t off = 0;

	cr_assert(fd >= 0);
	while (off < len - 1 && (n = read(fd, buf + off, len - 1 - off)) > 0)
		off += (size_t)n;
	close(fd);
	buf[off] = '\0';
	return off;
}

Test(log, maillog_lines, .init = setup, .fini = teardown)
{
	static const char *want[] = {
		"^[A-Z][a-z][a-z] [ 0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9] myhost postfix-doorman/postscreen\\[[0-9]+\\]: CONNECT from \\[192.0.2.1\\]:4321 to \\[127.0.0.1\\]:25$",
		"^.* postfix-doorman/postscreen\\[[0-9]+\\]: warning: w 1$",
		"^.* postfix-doorman/postscreen\\[[0-9]+\\]: error: e$",
		"^.* postfix-doorman/master\\[[0-9]+\\]: tagged$",
		"^.* postfix-doorman/master\\[[0-9]+\\]: warning: tagged warn$",
		"^.* postfix-doorman/smtpd\\[[0-9]+\\]: after set_tag$",
		"^.* postfix-doorman/smtpd\\[[0-9]+\\]: forged\\?Nov 1 host x\\[1\\]: y\\?\\?z$",
	};
	char buf[8192], *line, *save;
	regex_t re;
	size_t i = 0;

	log_set_hostname("myhost");
	cr_assert_eq(log_open("postfix-doorman/postscreen", logp), 0);
	cr_expect_str_eq(log_tag(), "postfix-doorman/postscreen");
	msg_info("CONNECT from [%s]:%d to [%s]:%d", "192.0.2.1", 4321,
	    "127.0.0.1", 25);
	msg_warn("w %d", 1);
	msg_error("e");
	msg_info_tag("postfix-doorman/master", "tagged");
	msg_warn_tag("postfix-doorman/master", "tagged warn");
	log_set_tag("postfix-doorman/smtpd");
	msg_info("after set_tag");
	msg_info("forged\nNov 1 host x[1]: y\r\tz");
	log_close();
	slurp(buf, sizeof(buf));
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save), i++) {
		cr_assert(i < sizeof(want) / sizeof(want[0]), "extra line %s",
		    line);
		cr_assert_eq(regcomp(&re, want[i], REG_EXTENDED | REG_NOSUB), 0);
		cr_expect_eq(regexec(&re, line, 0, NULL, 0), 0,
		    "got %s, want %s", line, want[i]);
		regfree(&re);
	}
	cr_expect_eq(i, sizeof(want) / sizeof(want[0]), "got %zu lines", i);
}

Test(log, long_message_cut, .init = setup, .fini = teardown)
{
	static char big[20000];
	char buf[16384];
	size_t n;

	memset(big, 'x', sizeof(big) - 1);
	cr_assert_eq(log_open("t", logp), 0);
	msg_info("%s", big);
	msg_info("next");
	log_close();
	n = slurp(buf, sizeof(buf));
	cr_expect(n < 5000, "got %zu bytes", n);
	cr_expect(strstr(buf, "xxx\n") != NULL, "long line not ended");
	cr_expect(strstr(buf, ": next\n") != NULL, "next line missing");
}

/* No temp dir here: exit(1) skips .fini. */
Test(log, fatal_exits_1, .exit_code = 1)
{
	cr_assert_eq(log_open("t", "/dev/null"), 0);
	msg_fatal("bad %s", "thing");
}

Test(log, concurrent_appends, .init = setup, .fini = teardown)
{
	static char buf[1 << 20];
	enum { NPROC = 4, NLINES = 500 };
	char *line, *save;
	int i, k, status, count = 0;
	pid_t pid;

	cr_assert_eq(log_open("t", logp), 0);
	for (i = 0; i < NPROC; i++) {
		if ((pid = fork()) == 0) {
			for (k = 0; k < NLINES; k++)
				msg_info("proc %d line %d %s", i, k,
				    "padding-padding-padding-padding-padding");
			_exit(0);
		}
		cr_assert(pid > 0);
	}
	for (i = 0; i < NPROC; i++) {
		wait(&status);
		cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	log_close();
	slurp(buf, sizeof(buf));
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		cr_expect(strstr(line, "]: proc ") != NULL &&
		    strstr(line, " padding-padding-padding-padding-padding") != NULL &&
		    strstr(line, "padding-padding-padding-padding-padding ") == NULL,
		    "torn line: %s", line);
		count++;
	}
	cr_expect_eq(count, NPROC * NLINES, "got %d lines, want %d", count,
	    NPROC * NLINES);
}

Test(log, held_lines_wait_for_flush, .init = setup, .fini = teardown)
{
	char buf[8192];

	cr_assert_eq(log_open("t", logp), 0);
	log_buffer(1);
	msg_info("first");
	msg_warn("second");
	cr_expect_eq(slurp(buf, sizeof(buf)), 0, "held line written: %s", buf);
	log_flush();
	slurp(buf, sizeof(buf));
	cr_expect(strstr(buf, "]: first\n") != NULL && strstr(buf,
	    "]: warning: second\n") > strstr(buf, "]: first\n"), "got %s", buf);
	/* Not holding: each line at once. */
	log_buffer(0);
	msg_info("third");
	slurp(buf, sizeof(buf));
	cr_expect(strstr(buf, "]: third\n") != NULL, "got %s", buf);
}

Test(log, held_lines_full_buffer_in_order, .init = setup, .fini = teardown)
{
	static char buf[1 << 20], big[6000];
	char want[32], *line, *save;
	int i, k = 0;

	memset(big, 'y', sizeof(big) - 1);
	cr_assert_eq(log_open("t", logp), 0);
	log_buffer(1);
	for (i = 0; i < 2000; i++)
		msg_info("line %d", i);
	msg_info("%s", big);		/* cut to one line, still in order */
	msg_info("line %d", i);
	cr_expect(slurp(buf, sizeof(buf)) > 0, "a full buffer is written");
	log_close();			/* writes the rest */
	slurp(buf, sizeof(buf));
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, "yyyy") != NULL) {
			cr_expect_eq(k, 2000, "long line out of order");
			continue;
		}
		snprintf(want, sizeof(want), "]: line %d", k++);
		cr_expect(strstr(line, want) != NULL, "got %s, want %s", line,
		    want);
	}
	cr_expect_eq(k, 2001);
}

/* exit(), return from main and msg_fatal() write what was held. */
Test(log, held_lines_written_at_exit, .init = setup, .fini = teardown)
{
	char buf[8192];
	int status;
	pid_t pid;

	if ((pid = fork()) == 0) {
		if (log_open("t", logp) != 0)
			_exit(2);
		log_buffer(1);
		msg_info("before exit");
		exit(0);
	}
	cr_assert(pid > 0);
	waitpid(pid, &status, 0);
	if ((pid = fork()) == 0) {
		if (log_open("t", logp) != 0)
			_exit(2);
		log_buffer(1);
		msg_fatal("the end");
	}
	cr_assert(pid > 0);
	waitpid(pid, &status, 0);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	slurp(buf, sizeof(buf));
	cr_expect(strstr(buf, "]: before exit\n") != NULL, "got %s", buf);
	cr_expect(strstr(buf, "]: fatal: the end\n") != NULL, "got %s", buf);
}
