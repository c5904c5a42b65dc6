/*
 * test_smtpd - the worker's pure parts: PROXY v1/v2 headers, the
 * XCLIENT command, the EHLO rewrite, reply parsing, and the DATA
 * normaliser (bare LF, dot-stuffing, end split across reads).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <string.h>

#include <criterion/criterion.h>

#include "backend/dotstuff.h"
#include "backend/proxy_hdr.h"
#include "backend/reply.h"

static struct sockaddr_storage
sa(const char *ip, int port)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		cr_assert_eq(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		cr_assert_eq(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
	}
	return (ss);
}

#define SA(x) ((const struct sockaddr *)&(x))

Test(proxy, v1_ipv4)
{
	struct sockaddr_storage c = sa("192.0.2.10", 56324), s = sa("198.51.100.1", 25);
	char	buf[128];

	cr_assert_eq(proxy_v1(SA(c), SA(s), buf, sizeof(buf)), 45);
	cr_assert_str_eq(buf, "PROXY TCP4 192.0.2.10 198.51.100.1 56324 25\r\n");
}

Test(proxy, v1_ipv6_and_mapped)
{
	struct sockaddr_storage c = sa("2001:db8::10", 1234), s = sa("2001:db8::1", 25);
	struct sockaddr_storage mc = sa("::ffff:192.0.2.10", 1234), ms = sa("::ffff:127.0.0.1", 25);
	char	buf[128];

	cr_assert_gt(proxy_v1(SA(c), SA(s), buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "PROXY TCP6 2001:db8::10 2001:db8::1 1234 25\r\n");
	cr_assert_gt(proxy_v1(SA(mc), SA(ms), buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "PROXY TCP4 192.0.2.10 127.0.0.1 1234 25\r\n");
	cr_assert_eq(proxy_v1(SA(c), SA(s), buf, 20), -1);
}

Test(proxy, v2_ipv4_bytes)
{
	struct sockaddr_storage c = sa("192.0.2.10", 0x1234), s = sa("198.51.100.1", 25);
	unsigned char buf[64];
	static const unsigned char want[] = {
		0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
		0x21, 0x11, 0x00, 0x0c,
		192, 0, 2, 10, 198, 51, 100, 1,
		0x12, 0x34, 0x00, 25
	};

	cr_assert_eq(proxy_v2(SA(c), SA(s), buf, sizeof(buf)), (ssize_t)sizeof(want));
	cr_assert_eq(memcmp(buf, want, sizeof(want)), 0);
	cr_assert_eq(proxy_v2(SA(c), SA(s), buf, 20), -1);
}

Test(proxy, v2_ipv6_bytes)
{
	struct sockaddr_storage c = sa("2001:db8::10", 40000), s = sa("2001:db8::1", 25);
	unsigned char buf[64];

	cr_assert_eq(proxy_v2(SA(c), SA(s), buf, sizeof(buf)), 16 + 36);
	cr_assert_eq(buf[12], 0x21);
	cr_assert_eq(buf[13], 0x21);
	cr_assert_eq(buf[14], 0);
	cr_assert_eq(buf[15], 36);
	cr_assert_eq(buf[16], 0x20);
	cr_assert_eq(buf[17], 0x01);
	cr_assert_eq(buf[31], 0x10);
	cr_assert_eq(buf[47], 0x01);
	cr_assert_eq(buf[48], 40000 >> 8);
	cr_assert_eq(buf[49], 40000 & 0xff);
	cr_assert_eq(buf[51], 25);
}

Test(xclient, offered)
{
	const char *r1 = "250-mx.example\r\n250-PIPELINING\r\n"
	    "250-XCLIENT NAME ADDR PROTO HELO REVERSE_NAME PORT LOGIN DESTADDR DESTPORT\r\n"
	    "250 8BITMIME\r\n";
	const char *r2 = "250-smtp-sink\r\n250-XCLIENT NAME HELO\r\n250 DSN\r\n";
	const char *r3 = "250-mx\r\n250-XCLIENTS ADDR\r\n250 DSN\r\n";
	const char *r4 = "250-mx\r\n250 xclient addr port\r\n";
	char	attrs[256];

	cr_assert_eq(xclient_offered(r1, strlen(r1), attrs, sizeof(attrs)), 1);
	cr_assert_str_eq(attrs, "NAME ADDR PROTO HELO REVERSE_NAME PORT LOGIN DESTADDR DESTPORT");
	cr_assert_eq(xclient_offered(r2, strlen(r2), attrs, sizeof(attrs)), 0);
	cr_assert_eq(xclient_offered(r3, strlen(r3), attrs, sizeof(attrs)), 0);
	cr_assert_eq(xclient_offered(r4, strlen(r4), attrs, sizeof(attrs)), 1);
	cr_assert_str_eq(attrs, "ADDR PORT");
}

Test(xclient, command_text)
{
	struct sockaddr_storage c = sa("192.0.2.10", 56324), s = sa("198.51.100.1", 25);
	struct sockaddr_storage c6 = sa("2001:db8::10", 1234), s6 = sa("2001:db8::1", 25);
	char	buf[600];

	cr_assert_gt(xclient_command(SA(c), SA(s),
	    "NAME ADDR PROTO HELO PORT DESTADDR DESTPORT", buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "XCLIENT ADDR=192.0.2.10 PORT=56324 NAME=[UNAVAILABLE] "
	    "DESTADDR=198.51.100.1 DESTPORT=25\r\n");
	/* Postfix 3.7 announces no DESTADDR: not sent. */
	cr_assert_gt(xclient_command(SA(c6), SA(s6),
	    "NAME ADDR PROTO HELO REVERSE_NAME PORT LOGIN", buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "XCLIENT ADDR=IPV6:2001:db8::10 PORT=1234 NAME=[UNAVAILABLE]\r\n");
	cr_assert_gt(xclient_command(SA(c), SA(s), "ADDR", buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "XCLIENT ADDR=192.0.2.10\r\n");
	cr_assert_eq(xclient_command(SA(c), SA(s), "ADDR", buf, 10), -1);
}

Test(xclient, xtext)
{
	char	buf[64];

	cr_assert_eq(xtext_encode("a+b=c d\x01", buf, sizeof(buf)), 16);
	cr_assert_str_eq(buf, "a+2Bb+3Dc+20d+01");
	cr_assert_eq(xtext_encode("abcdef", buf, 4), -1);
}

static void
rewrite(const char *in, const char *want)
{
	static struct reply r, o;

	cr_assert_eq(reply_parse(&r, in, strlen(in)), 0, "parse %s", in);
	reply_ehlo_rewrite(&r, &o);
	cr_assert_str_eq(o.text, want);
	cr_assert_eq(o.len, strlen(want));
}

Test(reply, ehlo_rewrite)
{
	rewrite("250-mx.example\r\n250-PIPELINING\r\n250-STARTTLS\r\n"
	    "250-XCLIENT NAME ADDR\r\n250-8BITMIME\r\n250-xforward name\r\n"
	    "250 CHUNKING\r\n",
	    "250-mx.example\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
	rewrite("250-mx\r\n250 STARTTLS\r\n", "250 mx\r\n");
	rewrite("250 mx\r\n", "250 mx\r\n");
	rewrite("250-mx\r\n250-BINARYMIME\r\n250-CHUNKINGX\r\n250 DSN\r\n",
	    "250-mx\r\n250-CHUNKINGX\r\n250 DSN\r\n");
	/* A first line that looks like a keyword is the greeting name. */
	rewrite("250-STARTTLS\r\n250 DSN\r\n", "250-STARTTLS\r\n250 DSN\r\n");
}

Test(reply, parse_and_last_text)
{
	static struct reply r;
	const char *t;
	size_t	len;

	cr_assert_eq(reply_parse(&r, "220-a\r\n220-b\n220 mx ESMTP x\r\n", 29), 0);
	cr_assert_eq(r.code, 220);
	cr_assert_eq(r.lines, 3);
	cr_assert_str_eq(r.text, "220-a\r\n220-b\r\n220 mx ESMTP x\r\n");
	t = reply_last_text(&r, &len);
	cr_assert_eq(len, 10);
	cr_assert_eq(strncmp(t, "mx ESMTP x", 10), 0);
	cr_assert_eq(reply_parse(&r, "250\r\n", 5), 0);
	cr_assert_str_eq(r.text, "250 \r\n");
	t = reply_last_text(&r, &len);
	cr_assert_eq(len, 0);
	cr_assert_eq(reply_parse(&r, "220-a\r\n250 b\r\n", 14), REPLY_BAD);
	cr_assert_eq(reply_parse(&r, "hello\r\n", 7), REPLY_BAD);
	cr_assert_eq(reply_parse(&r, "220-a\r\n", 7), REPLY_BAD);
	cr_assert_eq(reply_parse(&r, "2200 x\r\n", 8), REPLY_BAD);
}

/* Feed text in pieces of step bytes; return the output, *used consumed. */
static char *
stuff(const char *in, size_t step, size_t *used, int *done)
{
	static char out[4096];
	struct dotstuff d;
	size_t	len = strlen(in), off = 0, olen = 0, n, k;

	dotstuff_init(&d);
	while (off < len && !d.done) {
		n = len - off < step ? len - off : step;
		k = dotstuff_feed(&d, in + off, n, out, &olen);
		cr_assert_leq(k, n);
		off += k;
		if (k < n)
			cr_assert(d.done);
	}
	out[olen] = 0;
	*used = off;
	*done = d.done;
	return (out);
}

static void
stuff_all(const char *in, const char *want, size_t want_used, int want_done)
{
	size_t	step, used;
	int	done;
	char	*got;

	/* Every split of the input gives the same result. */
	for (step = 1; step <= strlen(in) + 1; step++) {
		got = stuff(in, step, &used, &done);
		cr_assert_str_eq(got, want, "step %zu", step);
		cr_assert_eq(used, want_used, "step %zu: used %zu", step, used);
		cr_assert_eq(done, want_done, "step %zu", step);
	}
}

Test(dotstuff, plain_end)
{
	stuff_all("Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n",
	    "Subject: x\r\n\r\nbody\r\n.\r\n", 23, 1);
}

Test(dotstuff, empty_message)
{
	stuff_all(".\r\nQUIT\r\n", ".\r\n", 3, 1);
}

Test(dotstuff, bare_lf_normalised)
{
	stuff_all("a\nb\r\n\n.\r\n", "a\r\nb\r\n\r\n..\r\n", 9, 0);
	stuff_all("a\nb\r\n.\r\n", "a\r\nb\r\n.\r\n", 8, 1);
}

Test(dotstuff, smuggling_forms_are_content)
{
	/* <LF>.<CR><LF>: content, stuffed; the real end follows. */
	stuff_all("x\n.\r\nMAIL FROM:<evil>\r\n.\r\n",
	    "x\r\n..\r\nMAIL FROM:<evil>\r\n.\r\n", 26, 1);
	/* <CR><LF>.<LF>: content. */
	stuff_all("x\r\n.\nRCPT\r\n.\r\n", "x\r\n..\r\nRCPT\r\n.\r\n", 14, 1);
	/* <LF>.<LF>: content. */
	stuff_all("x\n.\ny\r\n.\r\n", "x\r\n..\r\ny\r\n.\r\n", 10, 1);
	/* Bare CR stays content and never ends anything. */
	stuff_all("x\r.\r\ny\r\n.\r\n", "x\r.\r\ny\r\n.\r\n", 11, 1);
}

Test(dotstuff, client_stuffing_kept)
{
	stuff_all("..\r\n..x\r\n.y\r\n.\r\n", "..\r\n..x\r\n.y\r\n.\r\n", 16, 1);
	stuff_all(".\r.\r\n.\r\n", ".\r.\r\n.\r\n", 8, 1);
}

Test(dotstuff, nul_and_binary)
{
	struct dotstuff d;
	char	out[64];
	size_t	olen = 0;
	const char in[] = "a\0b\r\n.\r\n";

	dotstuff_init(&d);
	cr_assert_eq(dotstuff_feed(&d, in, sizeof(in) - 1, out, &olen), 8);
	cr_assert(d.done);
	cr_assert_eq(olen, 8);
	cr_assert_eq(memcmp(out, in, 8), 0);
}
