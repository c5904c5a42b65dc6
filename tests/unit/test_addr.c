/*
 * test_addr - endpoint and address parsing and printing (IPv4, IPv6,
 * IPv4-mapped, unix sockets), networks with cidr_parse/cidr_match.
 */
#include <criterion/criterion.h>

#include <sys/un.h>
#include <arpa/inet.h>
#include <string.h>

#include "conf/addr.h"

Test(addr, endpoints)
{
	static const struct {
		const char *text;
		const char *listener;	/* NULL: must fail */
		const char *bracket;
		int port;
	} cases[] = {
		{ "127.0.0.1:2525", "127.0.0.1:2525", "[127.0.0.1]:2525", 2525 },
		{ "0.0.0.0:25", "0.0.0.0:25", "[0.0.0.0]:25", 25 },
		{ "[::1]:25", "[::1]:25", "[::1]:25", 25 },
		{ "[::]:25", "[::]:25", "[::]:25", 25 },
		{ "[2001:db8::1]:65535", "[2001:db8::1]:65535",
		    "[2001:db8::1]:65535", 65535 },
		{ "[::ffff:192.0.2.1]:25", "192.0.2.1:25", "[192.0.2.1]:25", 25 },
		{ "unix:/run/mta.sock", "unix:/run/mta.sock",
		    "unix:/run/mta.sock", 0 },
		{ "127.0.0.1", NULL, NULL, 0 },
		{ "127.0.0.1:", NULL, NULL, 0 },
		{ "127.0.0.1:65536", NULL, NULL, 0 },
		{ "127.0.0.1:2x", NULL, NULL, 0 },
		{ "localhost:25", NULL, NULL, 0 },
		{ "::1:25", NULL, NULL, 0 },
		{ "[::1]25", NULL, NULL, 0 },
		{ "[::1:25", NULL, NULL, 0 },
		{ "[127.0.0.1]:25", NULL, NULL, 0 },
		{ "unix:relative", NULL, NULL, 0 },
		{ "", NULL, NULL, 0 },
	};
	struct endpoint ep;
	const char *why;
	char buf[ADDR_STRLEN + 110];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = addr_parse_endpoint(cases[i].text, &ep, &why);

		if (cases[i].listener == NULL) {
			cr_expect_eq(rc, -1, "\"%s\": got ok, want error",
			    cases[i].text);
			continue;
		}
		cr_expect_eq(rc, 0, "\"%s\": got %s, want ok", cases[i].text,
		    why);
		if (rc != 0)
			continue;
		addr_listener_str((struct sockaddr *)&ep.sa, buf, sizeof(buf));
		cr_expect_str_eq(buf, cases[i].listener, "got %s, want %s", buf,
		    cases[i].listener);
		addr_bracket_str((struct sockaddr *)&ep.sa, buf, sizeof(buf));
		cr_expect_str_eq(buf, cases[i].bracket, "got %s, want %s", buf,
		    cases[i].bracket);
		cr_expect_eq(addr_port((struct sockaddr *)&ep.sa), cases[i].port);
	}
}

Test(addr, long_unix_path)
{
	char text[200];
	struct endpoint ep;
	const char *why;

	memset(text, 'a', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	memcpy(text, "unix:/", 6);
	cr_expect_eq(addr_parse_endpoint(text, &ep, &why), -1);
	cr_expect(strstr(why, "too long") != NULL, "got %s", why);
}

Test(addr, ips_and_unmap)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "192.0.2.1", "192.0.2.1" },
		{ "2001:DB8::1", "2001:db8::1" },
		{ "[2001:db8::1]", "2001:db8::1" },
		{ "::ffff:192.0.2.1", "192.0.2.1" },
		{ "1", NULL }, { "192.0.2", NULL }, { "192.0.2.256", NULL },
		{ "[192.0.2.1]", NULL }, { "host", NULL }, { "", NULL },
		{ "[::1", NULL },
	};
	struct sockaddr_storage ss;
	socklen_t sl;
	char buf[ADDR_STRLEN];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = addr_parse_ip(cases[i].text, &ss, &sl);

		if (cases[i].want == NULL) {
			cr_expect_eq(rc, -1, "\"%s\": got ok", cases[i].text);
			continue;
		}
		cr_assert_eq(rc, 0, "\"%s\": got error", cases[i].text);
		addr_ip_str((struct sockaddr *)&ss, buf, sizeof(buf));
		cr_expect_str_eq(buf, cases[i].want, "got %s, want %s", buf,
		    cases[i].want);
	}
	cr_assert_eq(addr_parse_ip("::ffff:192.0.2.1", &ss, &sl), 0);
	((struct sockaddr_in6 *)&ss)->sin6_port = htons(25);
	addr_unmap(&ss, &sl);
	cr_expect_eq(ss.ss_family, AF_INET);
	cr_expect_eq(sl, sizeof(struct sockaddr_in));
	cr_expect_eq(addr_port((struct sockaddr *)&ss), 25);
	addr_ip_str((struct sockaddr *)&ss, buf, sizeof(buf));
	cr_expect_str_eq(buf, "192.0.2.1");
	/* Not mapped: unchanged. */
	cr_assert_eq(addr_parse_ip("2001:db8::1", &ss, &sl), 0);
	addr_unmap(&ss, &sl);
	cr_expect_eq(ss.ss_family, AF_INET6);
}

Test(addr, cidr)
{
	static const struct {
		const char *net;
		const char *addr;
		int want;		/* -1: net is invalid */
	} cases[] = {
		{ "192.0.2.0/24", "192.0.2.1", 1 },
		{ "192.0.2.0/24", "192.0.3.1", 0 },
		{ "192.0.2.0/24", "::ffff:192.0.2.9", 1 },
		{ "192.0.2.0/24", "2001:db8::1", 0 },
		{ "192.0.2.1", "192.0.2.1", 1 },
		{ "192.0.2.1", "192.0.2.2", 0 },
		{ "0.0.0.0/0", "203.0.113.1", 1 },
		{ "192.0.2.128/25", "192.0.2.127", 0 },
		{ "192.0.2.128/25", "192.0.2.255", 1 },
		{ "10.0.0.0/9", "10.127.1.1", 1 },
		{ "10.0.0.0/9", "10.128.1.1", 0 },
		{ "[2001:db8::]/32", "2001:db8:ffff::1", 1 },
		{ "2001:db8::/32", "2001:db9::1", 0 },
		{ "2001:db8::/33", "2001:db8:8000::1", 0 },
		{ "[::1]/128", "::1", 1 },
		{ "[::1]", "::1", 1 },
		{ "::/0", "2001:db8::1", 1 },
		{ "::/0", "192.0.2.1", 0 },
		{ "192.0.2.1/24", NULL, -1 },
		{ "2001:db8::1/32", NULL, -1 },
		{ "192.0.2.0/33", NULL, -1 },
		{ "2001:db8::/129", NULL, -1 },
		{ "192.0.2.0/", NULL, -1 },
		{ "192.0.2.0/2x", NULL, -1 },
		{ "banana/8", NULL, -1 },
		{ "", NULL, -1 },
	};
	struct sockaddr_storage ss;
	socklen_t sl;
	struct cidr c;
	const char *why;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = cidr_parse(cases[i].net, &c, &why);

		if (cases[i].want < 0) {
			cr_expect_eq(rc, -1, "%s: got ok, want error",
			    cases[i].net);
			continue;
		}
		cr_assert_eq(rc, 0, "%s: got %s", cases[i].net, why);
		cr_assert_eq(addr_parse_ip(cases[i].addr, &ss, &sl), 0);
		cr_expect_eq(cidr_match(&c, (struct sockaddr *)&ss),
		    cases[i].want, "%s in %s: got %d, want %d", cases[i].addr,
		    cases[i].net, !cases[i].want, cases[i].want);
	}
	cr_expect_eq(cidr_parse("192.0.2.1/24", &c, &why), -1);
	cr_expect(strstr(why, "non-null host address bits in \"192.0.2.1/24\", perhaps you should use \"192.0.2.0/24\" instead") != NULL,
	    "got %s", why);
}
