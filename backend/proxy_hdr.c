/*
 * proxy_hdr - PROXY v1/v2 headers and the XCLIENT command (see
 * proxy_hdr.h).  IPv4-mapped IPv6 addresses are written as IPv4, as
 * postscreen does, so that the MTA's access rules see the plain form.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "backend/proxy_hdr.h"

/* One endpoint reduced to what the headers carry. */
struct ipport {
	int	family;			/* AF_INET or AF_INET6 */
	unsigned char addr[16];
	unsigned port;
};

static int
to_ipport(const struct sockaddr *sa, struct ipport *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		ip->family = AF_INET;
		memcpy(ip->addr, &sin->sin_addr, 4);
		ip->port = ntohs(sin->sin_port);
		return (0);
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		ip->port = ntohs(sin6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			ip->family = AF_INET;
			memcpy(ip->addr, sin6->sin6_addr.s6_addr + 12, 4);
		} else {
			ip->family = AF_INET6;
			memcpy(ip->addr, &sin6->sin6_addr, 16);
		}
		return (0);
	}
	return (-1);
}

/* Both ends in one family: widen an IPv4 end to mapped IPv6 if needed. */
static int
pair_of(const struct sockaddr *c, const struct sockaddr *s,
    struct ipport *ci, struct ipport *si)
{
	struct ipport *v4 = NULL;

	if (to_ipport(c, ci) < 0 || to_ipport(s, si) < 0)
		return (-1);
	if (ci->family == si->family)
		return (0);
	v4 = ci->family == AF_INET ? ci : si;
	memmove(v4->addr + 12, v4->addr, 4);
	memset(v4->addr, 0, 10);
	v4->addr[10] = v4->addr[11] = 0xff;
	v4->family = AF_INET6;
	return (0);
}

static void
ip_text(const struct ipport *ip, char *buf, size_t len)
{
	inet_ntop(ip->family, ip->addr, buf, len);
}

ssize_t
proxy_v1(const struct sockaddr *client, const struct sockaddr *server,
    char *buf, size_t cap)
{
	struct ipport ci, si;
	char	ca[INET6_ADDRSTRLEN], sa[INET6_ADDRSTRLEN];
	int	n;

	if (pair_of(client, server, &ci, &si) < 0)
		return (-1);
	ip_text(&ci, ca, sizeof(ca));
	ip_text(&si, sa, sizeof(sa));
	n = snprintf(buf, cap, "PROXY %s %s %s %u %u\r\n",
	    ci.family == AF_INET ? "TCP4" : "TCP6", ca, sa, ci.port, si.port);
	if (n < 0 || (size_t)n >= cap)
		return (-1);
	return (n);
}

ssize_t
proxy_v2(const struct sockaddr *client, const struct sockaddr *server,
    unsigned char *buf, size_t cap)
{
	static const unsigned char sig[12] = {
		0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
	};
	struct ipport ci, si;
	size_t	alen, off;

	if (pair_of(client, server, &ci, &si) < 0)
		return (-1);
	alen = ci.family == AF_INET ? 4 : 16;
	if (cap < 16 + 2 * alen + 4)
		return (-1);
	memcpy(buf, sig, sizeof(sig));
	buf[12] = 0x21;				/* version 2, PROXY */
	buf[13] = ci.family == AF_INET ? 0x11 : 0x21;	/* TCP over IPv4/6 */
	buf[14] = (unsigned char)((2 * alen + 4) >> 8);
	buf[15] = (unsigned char)((2 * alen + 4) & 0xff);
	off = 16;
	memcpy(buf + off, ci.addr, alen);
	off += alen;
	memcpy(buf + off, si.addr, alen);
	off += alen;
	buf[off++] = ci.port >> 8;
	buf[off++] = ci.port & 0xff;
	buf[off++] = si.port >> 8;
	buf[off++] = si.port & 0xff;
	return ((ssize_t)off);
}

/* Is word (length n) in the upper-case, space-separated list? */
static int
has_attr(const char *attrs, const char *word)
{
	size_t	n = strlen(word);
	const char *p = attrs;

	while ((p = strstr(p, word)) != NULL) {
		if ((p == attrs || p[-1] == ' ') && (p[n] == ' ' || p[n] == 0))
			return (1);
		p += n;
	}
	return (0);
}

int
xclient_offered(const char *reply, size_t len, char *attrs, size_t cap)
{
	const char *p = reply, *end = reply + len, *eol, *q;
	size_t	o;

	if (cap == 0)
		return (0);
	attrs[0] = 0;
	for (; p < end; p = eol + 1) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		/* "250-XCLIENT NAME ADDR ..." or "250 XCLIENT ..." */
		if (eol - p < 11 || strncasecmp(p + 4, "XCLIENT", 7) != 0 ||
		    !(p[11] == ' ' || p[11] == '\r' || p[11] == '\n'))
			continue;
		o = 0;
		for (q = p + 11; q < eol && *q != '\r'; q++) {
			if (o + 2 >= cap)
				break;
			if (*q == ' ' || *q == '\t') {
				if (o > 0 && attrs[o - 1] != ' ')
					attrs[o++] = ' ';
			} else
				attrs[o++] = (char)toupper((unsigned char)*q);
		}
		while (o > 0 && attrs[o - 1] == ' ')
			o--;
		attrs[o] = 0;
		return (has_attr(attrs, "ADDR"));
	}
	return (0);
}

ssize_t
xtext_encode(const char *in, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t	o = 0;
	unsigned char c;

	for (; *in; in++) {
		c = (unsigned char)*in;
		if (c < 33 || c > 126 || c == '+' || c == '=') {
			if (o + 3 >= cap)
				return (-1);
			out[o++] = '+';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			if (o + 1 >= cap)
				return (-1);
			out[o++] = (char)c;
		}
	}
	if (o >= cap)
		return (-1);
	out[o] = 0;
	return ((ssize_t)o);
}

/* "1.2.3.4" or "IPV6:2001:db8::1", xtext-encoded. */
static int
xclient_addr(const struct ipport *ip, char *buf, size_t cap)
{
	char	a[INET6_ADDRSTRLEN + 8];

	if (ip->family == AF_INET6) {
		memcpy(a, "IPV6:", 5);
		ip_text(ip, a + 5, sizeof(a) - 5);
	} else
		ip_text(ip, a, sizeof(a));
	return (xtext_encode(a, buf, cap) < 0 ? -1 : 0);
}

ssize_t
xclient_command(const struct sockaddr *client, const struct sockaddr *server,
    const char *attrs, char *buf, size_t cap)
{
	struct ipport ci, si;
	char	ca[80], sa[80];
	size_t	o;
	int	n;

	/* Each end on its own: XCLIENT has no "same family" rule. */
	if (to_ipport(client, &ci) < 0 || to_ipport(server, &si) < 0)
		return (-1);
	if (xclient_addr(&ci, ca, sizeof(ca)) < 0 ||
	    xclient_addr(&si, sa, sizeof(sa)) < 0)
		return (-1);
	n = snprintf(buf, cap, "XCLIENT ADDR=%s", ca);
	if (n < 0 || (size_t)n >= cap)
		return (-1);
	o = (size_t)n;
#define ADD(...) do { \
	n = snprintf(buf + o, cap - o, __VA_ARGS__); \
	if (n < 0 || (size_t)n >= cap - o) \
		return (-1); \
	o += (size_t)n; \
} while (0)
	if (has_attr(attrs, "PORT"))
		ADD(" PORT=%u", ci.port);
	/* No DNS lookup in the worker: the MTA does its own. */
	if (has_attr(attrs, "NAME"))
		ADD(" NAME=[UNAVAILABLE]");
	if (has_attr(attrs, "DESTADDR"))
		ADD(" DESTADDR=%s", sa);
	if (has_attr(attrs, "DESTPORT"))
		ADD(" DESTPORT=%u", si.port);
	ADD("\r\n");
#undef ADD
	return ((ssize_t)o);
}
