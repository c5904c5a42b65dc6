/*
 * proxy_hdr - how the worker tells the MTA who the client really is:
 * the PROXY protocol v1 line, the v2 binary header, and the XCLIENT
 * command (Postfix XCLIENT_README).  Pure functions, no I/O.
 */
#ifndef DOORMAN_PROXY_HDR_H
#define DOORMAN_PROXY_HDR_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/socket.h>

/*
 * "PROXY TCP4 c s cp sp\r\n" (TCP6 for IPv6; IPv4-mapped IPv6 shown
 * as IPv4).  Returns the length, -1 if the addresses are not IP or cap
 * is too small.
 */
ssize_t	proxy_v1(const struct sockaddr *client, const struct sockaddr *server,
	    char *buf, size_t cap);

/* The v2 header (signature, 0x21, 0x11 or 0x21, length, addresses). */
ssize_t	proxy_v2(const struct sockaddr *client, const struct sockaddr *server,
	    unsigned char *buf, size_t cap);

/*
 * Does this EHLO reply (CRLF-separated lines) announce XCLIENT with
 * ADDR?  If so, copy the attribute names (space separated, upper case)
 * into attrs and return 1.
 */
int	xclient_offered(const char *ehlo_reply, size_t len, char *attrs, size_t cap);

/*
 * "XCLIENT ADDR=.. PORT=.. NAME=[UNAVAILABLE] DESTADDR=.. DESTPORT=..\r\n"
 * with only the attributes that attrs (from xclient_offered) lists, ADDR
 * always.  IPv6 as "IPV6:addr".  Values are xtext.  Returns the length
 * or -1.
 */
ssize_t	xclient_command(const struct sockaddr *client, const struct sockaddr *server,
	    const char *attrs, char *buf, size_t cap);

/* xtext (RFC 3461): '+', '=' and non-printables as "+XX".  -1 if cap short. */
ssize_t	xtext_encode(const char *in, char *out, size_t cap);

#endif
