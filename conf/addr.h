/*
 * addr - socket addresses as admins write and read them.
 *
 * Parsing: "127.0.0.1:2525", "[::1]:25", "0.0.0.0:25", "[::]:25",
 * "host:port" only with numeric hosts (no DNS at start-up), and
 * "unix:/path" for unix sockets.  Printing: "[ip]:port" as postscreen's
 * log lines show a client, "ip" alone, "ip:port" / "[ip6]:port" as
 * master shows a listener.  Networks: "a.b.c.d/n", "[v6]/n", "v6/n".
 */
#ifndef DOORMAN_ADDR_H
#define DOORMAN_ADDR_H

#include <sys/socket.h>
#include <netinet/in.h>
#include <stddef.h>

#define ADDR_STRLEN	64	/* enough for "[ipv6%scope]:65535" */

struct endpoint {
	struct sockaddr_storage sa;
	socklen_t	salen;
};

/* "ip:port", "[ip6]:port" or "unix:/path"; -1 and *why on error. */
int	addr_parse_endpoint(const char *text, struct endpoint *, const char **why);

/* Numeric address text -> sockaddr (port 0); -1 if not an address. */
int	addr_parse_ip(const char *text, struct sockaddr_storage *, socklen_t *);

/* "192.0.2.1" or "2001:db8::1" (IPv4-mapped IPv6 shown as IPv4). */
char   *addr_ip_str(const struct sockaddr *, char *buf, size_t len);
int	addr_port(const struct sockaddr *);
/* "[192.0.2.1]:25" (postscreen's [c]:p). */
char   *addr_bracket_str(const struct sockaddr *, char *buf, size_t len);
/* "127.0.0.1:2525", "[2001:db8::1]:25", "unix:/path" (master's listener form). */
char   *addr_listener_str(const struct sockaddr *, char *buf, size_t len);

/* Convert IPv4-mapped IPv6 to plain IPv4 in place. */
void	addr_unmap(struct sockaddr_storage *, socklen_t *);

/* A network: address and prefix length. */
struct cidr {
	int	family;			/* AF_INET or AF_INET6 */
	unsigned char addr[16];		/* network bytes, host bits zero */
	int	prefix;
};

/*
 * "192.0.2.0/24", "192.0.2.1", "[2001:db8::]/32", "2001:db8::/32",
 * "[::1]/128".  Non-zero host bits are an error, as in Postfix's cidr
 * tables.  -1 and *why on error.
 */
int	cidr_parse(const char *text, struct cidr *, const char **why);
int	cidr_match(const struct cidr *, const struct sockaddr *);

#endif
