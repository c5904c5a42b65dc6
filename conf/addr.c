/*
 * addr - socket addresses and networks as admins write and read them.
 *
 * Only numeric forms are accepted: the daemon must not depend on DNS
 * to start, and a name that resolves differently tomorrow is not a
 * listener anyone can audit.  IPv4-mapped IPv6 addresses are shown and
 * matched as the IPv4 addresses they are, so that a dual-stack socket
 * logs "[192.0.2.1]" as postscreen does.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/addr.h"

/* Longest address text we look at ("[v6%scope]/128" fits easily). */
#define ADDR_TEXT_MAX	128

static int
parse_port(const char *s, int *port)
{
	long v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		v = v * 10 + (*s - '0');
		if (v > 65535)
			return -1;
	}
	*port = (int)v;
	return 0;
}

int
addr_parse_ip(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
	char buf[ADDR_TEXT_MAX];
	size_t n;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct addrinfo hints, *res;

	if (text == NULL)
		return -1;
	n = strlen(text);
	if (n >= sizeof(buf) || n == 0)
		return -1;
	/* "[2001:db8::1]" is how admins quote IPv6; accept it. */
	if (text[0] == '[') {
		if (n < 3 || text[n - 1] != ']')
			return -1;
		memcpy(buf, text + 1, n - 2);
		buf[n - 2] = '\0';
		if (strchr(buf, ':') == NULL)
			return -1;
	} else
		memcpy(buf, text, n + 1);

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, buf, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, buf, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		*len = sizeof(*sin6);
		return 0;
	}
	if (strchr(buf, '%') == NULL || strchr(buf, ':') == NULL)
		return -1;
	/* A scoped link-local address: only the resolver knows scopes. */
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET6;
	hints.ai_flags = AI_NUMERICHOST;
	if (getaddrinfo(buf, NULL, &hints, &res) != 0)
		return -1;
	if (res->ai_addrlen > sizeof(*ss)) {
		freeaddrinfo(res);
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static void
set_port(struct sockaddr_storage *ss, int port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((unsigned short)port);
	else if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port =
		    htons((unsigned short)port);
}

int
addr_parse_endpoint(const char *text, struct endpoint *ep, const char **why)
{
	char host[ADDR_TEXT_MAX];
	const char *colon, *end;
	struct sockaddr_un *sun;
	size_t n;
	int port;

	memset(ep, 0, sizeof(*ep));
	if (text == NULL || *text == '\0') {
		*why = "empty address";
		return -1;
	}
	if (strncmp(text, "unix:", 5) == 0) {
		sun = (struct sockaddr_un *)&ep->sa;
		n = strlen(text + 5);
		if (n == 0 || text[5] != '/') {
			*why = "unix socket path must be absolute";
			return -1;
		}
		if (n >= sizeof(sun->sun_path)) {
			*why = "unix socket path too long";
			return -1;
		}
		sun->sun_family = AF_UNIX;
		memcpy(sun->sun_path, text + 5, n + 1);
		ep->salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    n + 1);
		return 0;
	}
	if (text[0] == '[') {
		if ((end = strchr(text, ']')) == NULL) {
			*why = "missing ']'";
			return -1;
		}
		if (end[1] != ':') {
			*why = "missing port after ']'";
			return -1;
		}
		n = (size_t)(end + 1 - text);
		colon = end + 1;
	} else {
		if ((colon = strrchr(text, ':')) == NULL) {
			*why = "missing port (host:port)";
			return -1;
		}
		if (strchr(text, ':') != colon) {
			*why = "IPv6 address must be written as [address]:port";
			return -1;
		}
		n = (size_t)(colon - text);
	}
	if (n >= sizeof(host)) {
		*why = "address too long";
		return -1;
	}
	memcpy(host, text, n);
	host[n] = '\0';
	if (parse_port(colon + 1, &port) != 0) {
		*why = "bad port number";
		return -1;
	}
	if (addr_parse_ip(host, &ep->sa, &ep->salen) != 0) {
		*why = "not a numeric IP address";
		return -1;
	}
	set_port(&ep->sa, port);
	return 0;
}

static int
is_mapped(const struct sockaddr *sa)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

	return sa->sa_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr);
}

char *
addr_ip_str(const struct sockaddr *sa, char *buf, size_t len)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
	const struct sockaddr_un *sun = (const struct sockaddr_un *)sa;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (sa->sa_family == AF_INET) {
		if (inet_ntop(AF_INET, &sin->sin_addr, buf, (socklen_t)len) == NULL)
			buf[0] = '\0';
	} else if (is_mapped(sa)) {
		if (inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], buf,
		    (socklen_t)len) == NULL)
			buf[0] = '\0';
	} else if (sa->sa_family == AF_INET6) {
		if (inet_ntop(AF_INET6, &sin6->sin6_addr, buf,
		    (socklen_t)len) == NULL)
			buf[0] = '\0';
	} else if (sa->sa_family == AF_UNIX) {
		snprintf(buf, len, "%s", sun->sun_path);
	} else
		snprintf(buf, len, "unknown");
	return buf;
}

int
addr_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return 0;
}

char *
addr_bracket_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char ip[ADDR_STRLEN];

	addr_ip_str(sa, ip, sizeof(ip));
	if (sa->sa_family == AF_UNIX)
		snprintf(buf, len, "unix:%s", ip);
	else
		snprintf(buf, len, "[%s]:%d", ip, addr_port(sa));
	return buf;
}

char *
addr_listener_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char ip[ADDR_STRLEN];

	addr_ip_str(sa, ip, sizeof(ip));
	if (sa->sa_family == AF_UNIX)
		snprintf(buf, len, "unix:%s", ip);
	else if (sa->sa_family == AF_INET6 && !is_mapped(sa))
		snprintf(buf, len, "[%s]:%d", ip, addr_port(sa));
	else
		snprintf(buf, len, "%s:%d", ip, addr_port(sa));
	return buf;
}

void
addr_unmap(struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in6 sin6;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	if (!is_mapped((struct sockaddr *)ss))
		return;
	memcpy(&sin6, ss, sizeof(sin6));
	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_port = sin6.sin6_port;
	memcpy(&sin->sin_addr, &sin6.sin6_addr.s6_addr[12], 4);
	*len = sizeof(*sin);
}

int
cidr_parse(const char *text, struct cidr *c, const char **why)
{
	static char msg[2 * ADDR_TEXT_MAX + 96];
	char buf[ADDR_TEXT_MAX], net[ADDR_STRLEN];
	struct sockaddr_storage ss;
	socklen_t sl;
	const char *slash;
	size_t n, i, bits;
	int prefix = -1, maxbits, dirty = 0;

	memset(c, 0, sizeof(*c));
	if (text == NULL || *text == '\0') {
		*why = "empty network";
		return -1;
	}
	n = strlen(text);
	if (n >= sizeof(buf)) {
		*why = "network address too long";
		return -1;
	}
	slash = strchr(text, '/');
	if (slash != NULL) {
		if (parse_port(slash + 1, &prefix) != 0 ||
		    (slash[1] == '0' && slash[2] != '\0')) {
			*why = "bad network prefix length";
			return -1;
		}
		n = (size_t)(slash - text);
	}
	memcpy(buf, text, n);
	buf[n] = '\0';
	if (addr_parse_ip(buf, &ss, &sl) != 0 || strchr(buf, '%') != NULL) {
		*why = "bad network address";
		return -1;
	}
	if (ss.ss_family == AF_INET) {
		c->family = AF_INET;
		memcpy(c->addr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
		maxbits = 32;
	} else {
		c->family = AF_INET6;
		memcpy(c->addr, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
		maxbits = 128;
	}
	if (prefix < 0)
		prefix = maxbits;
	if (prefix > maxbits) {
		*why = "bad network prefix length";
		return -1;
	}
	c->prefix = prefix;
	for (i = 0; i < (size_t)maxbits / 8; i++) {
		bits = (size_t)prefix > i * 8 ? (size_t)prefix - i * 8 : 0;
		if (bits >= 8)
			continue;
		if (c->addr[i] & (0xff >> bits)) {
			dirty = 1;
			c->addr[i] &= (unsigned char)~(0xff >> bits);
		}
	}
	if (dirty) {
		inet_ntop(c->family, c->addr, net, sizeof(net));
		snprintf(msg, sizeof(msg),
		    "non-null host address bits in \"%s\", perhaps you should use \"%s%s%s/%d\" instead",
		    text, c->family == AF_INET6 && text[0] == '[' ? "[" : "",
		    net, c->family == AF_INET6 && text[0] == '[' ? "]" : "",
		    prefix);
		*why = msg;
		return -1;
	}
	return 0;
}

int
cidr_match(const struct cidr *c, const struct sockaddr *sa)
{
	const unsigned char *a;
	int full, rest;

	if (sa->sa_family == AF_INET && c->family == AF_INET)
		a = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
	else if (is_mapped(sa) && c->family == AF_INET)
		a = &((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr[12];
	else if (sa->sa_family == AF_INET6 && c->family == AF_INET6)
		a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
	else
		return 0;
	full = c->prefix / 8;
	rest = c->prefix % 8;
	if (memcmp(a, c->addr, (size_t)full) != 0)
		return 0;
	if (rest != 0 &&
	    ((a[full] ^ c->addr[full]) & (unsigned char)(0xff << (8 - rest))))
		return 0;
	return 1;
}
