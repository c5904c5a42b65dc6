/*
 * session - relay one handed-off client to the upstream MTA.
 *
 * Order of a session (DESIGN §7, §10):
 *   1. "connect from unknown[IP]" (no DNS lookups in the worker).
 *   2. connect to backend_upstream; PROXY v1/v2 header, or read the 220,
 *      EHLO, XCLIENT and take its 2xx as the greeting.
 *   3. the greeting: after the screen's "220-" teaser exactly one final
 *      "220 " line; otherwise the upstream's greeting as it came.  With
 *      the upstream unreachable after a teaser, or a record marked X21,
 *      postscreen's X21 mode: "220 <banner>", then 421 to the first
 *      command other than QUIT.
 *   4. one client command at a time: forward, relay the reply, count
 *      errors and junk commands as smtpd does.
 *   5. DATA is streamed through dotstuff (bare LF normalised, the end
 *      only at CRLF.CRLF); the client gets 250 only when the upstream
 *      said 250, a fault gets 451 and ends the session.
 *   6. "disconnect from unknown[IP] ehlo=1 ... commands=N".
 *
 * All I/O is blocking-style with deadlines (netio): one session at a
 * time per worker, so a stuck peer costs this worker time, nothing more.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "conf/addr.h"
#include "conf/log.h"
#include "backend/dotstuff.h"
#include "backend/netio.h"
#include "backend/proxy_hdr.h"
#include "backend/reply.h"
#include "backend/session.h"

/* What the worker does with a client command. */
enum cmd_kind {
	K_RELAY,		/* forward, relay the reply */
	K_DATA,			/* forward, then stream the message */
	K_AUTH,			/* forward, then relay 334 rounds */
	K_QUIT,			/* forward, answer, end */
	K_NOTREC,		/* 502 5.5.2 command not recognized */
	K_NOTIMPL,		/* 502 5.5.1 command not implemented */
	K_UNKNOWN		/* 500 5.5.2 command not recognized */
};

#define F_JUNK	0x01		/* smtpd_junk_command_limit: Postfix's NOOP, VRFY, ETRN, RSET */

/*
 * smtpd's commands, in the order in which its disconnect line lists
 * them (its command table), with the unknown ones last.
 */
static const struct cmd {
	const char *name;	/* upper case */
	enum cmd_kind kind;
	int	flags;
} cmds[] = {
	{ "HELO", K_RELAY, 0 },
	{ "EHLO", K_RELAY, 0 },
	{ "XCLIENT", K_NOTREC, 0 },
	{ "XFORWARD", K_NOTREC, 0 },
	{ "STARTTLS", K_NOTIMPL, 0 },
	{ "AUTH", K_AUTH, 0 },
	{ "MAIL", K_RELAY, 0 },
	{ "RCPT", K_RELAY, 0 },
	{ "DATA", K_DATA, 0 },
	{ "BDAT", K_NOTREC, 0 },	/* CHUNKING is never offered */
	{ "RSET", K_RELAY, F_JUNK },
	{ "NOOP", K_RELAY, F_JUNK },
	{ "VRFY", K_RELAY, F_JUNK },
	{ "ETRN", K_RELAY, F_JUNK },
	{ "HELP", K_RELAY, 0 },
	{ "QUIT", K_QUIT, 0 },
	{ "UNKNOWN", K_UNKNOWN, 0 },	/* an error already (500) */
};
#define NCMDS	(sizeof(cmds) / sizeof(cmds[0]))
#define CMD_UNKNOWN	(NCMDS - 1)

/* How a phase ended. */
enum { GO_ON, END, ANSWERED };

struct session {
	/* Cleared for each session. */
	const struct smtpd_params *p;
	const struct handoff *h;
	char	ip[ADDR_STRLEN];
	int	upfd;
	long	errors;
	long	junk;
	const char *last;		/* last command verb, for log lines */
	int	ok[NCMDS];
	int	total[NCMDS];
	char	*line;			/* line_limit + 1 */
	int	esmtp;			/* EHLO (not HELO) was accepted */
	int	hung_up_on;		/* we sent a 421: the session ends here */
	char	helo[256];		/* for smtpd-style reject lines */
	char	sender[256];
	/* Buffers (about 60 KB), set up as they are used: never cleared. */
	struct netio cl;		/* client */
	struct netio up;		/* upstream */
	struct reply r1, r2;
	char	out[DOTSTUFF_OUT_MAX(NETIO_BUFSIZE)];
};

static void
upstream_close(struct session *s)
{
	if (s->upfd >= 0) {
		close(s->upfd);
		s->upfd = -1;
	}
}

/* Send text to the client; -1 when the client is gone. */
static int
client_write(struct session *s, const char *text, size_t len)
{
	if (s->cl.fd < 0)
		return (-1);
	if (netio_write(s->cl.fd, text, len, s->p->timeout_ms) < 0) {
		/* A write timeout or reset is a lost client. */
		s->cl.eof = 1;
		return (-1);
	}
	s->cl.wait_first = 1;
	if (len >= 3 && memcmp(text, "421", 3) == 0)
		s->hung_up_on = 1;	/* ours or the MTA's: it ends the session */
	return (0);
}

static int
client_reply(struct session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* One reply line of the worker's own, CRLF added. */
static int
client_reply(struct session *s, const char *fmt, ...)
{
	char	buf[600];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return (-1);
	if ((size_t)n > sizeof(buf) - 3)
		n = sizeof(buf) - 3;
	buf[n++] = '\r';
	buf[n++] = '\n';
	return (client_write(s, buf, (size_t)n));
}

static int
upstream_write(struct session *s, const void *data, size_t len)
{
	if (s->upfd < 0)
		return (-1);
	s->up.wait_first = 1;
	return (netio_write(s->upfd, data, len, s->p->upstream_timeout_ms));
}

/*
 * s->line[0..len) plus CRLF, in one write: a command in two segments
 * would wait on the upstream's delayed ACK (Nagle), 40 ms a command.
 */
static int
upstream_send_line(struct session *s, size_t len)
{
	int rc;

	s->line[len] = '\r';
	s->line[len + 1] = '\n';
	rc = upstream_write(s, s->line, len + 2);
	s->line[len] = '\0';	/* the log lines read it again */
	return (rc);
}

static const char *
io_reason(int rc)
{
	switch (rc) {
	case NETIO_EOF:
		return ("lost connection");
	case NETIO_TIMEOUT:
		return ("timeout");
	case REPLY_BAD:
		return ("malformed reply");
	default:
		return (strerror(errno));
	}
}

/* Read an upstream reply, logging why it failed. */
static int
upstream_reply(struct session *s, struct reply *r, int64_t timeout, const char *after)
{
	int	rc;

	if (s->upfd < 0)
		return (-1);
	rc = reply_read(&s->up, r, timeout);
	if (rc == NETIO_OK)
		return (0);
	msg_warn("upstream %s: %s while reading reply to %s",
	    s->p->upstream_text, io_reason(rc), after);
	upstream_close(s);
	return (-1);
}

/*
 * Connect and introduce the client.  0 with the greeting in *greet;
 * -1 when the client must be told the service is unavailable.
 */
static int
upstream_open(struct session *s, struct reply *greet)
{
	const struct smtpd_params *p = s->p;
	const struct sockaddr *c = (const struct sockaddr *)&s->h->client;
	const struct sockaddr *sv = (const struct sockaddr *)&s->h->server;
	char	buf[600], attrs[256];
	unsigned char bin[64];
	ssize_t	n;
	int	fd;

	fd = netio_connect((const struct sockaddr *)&p->upstream.sa,
	    p->upstream.salen, p->connect_timeout_ms);
	if (fd < 0) {
		msg_warn("connect to upstream %s: %s", p->upstream_text,
		    strerror(errno));
		return (-1);
	}
	s->upfd = fd;
	netio_init(&s->up, fd, NULL, 0);
	s->up.wait_first = 1;	/* the MTA speaks first */

	/* PROXY goes first: the MTA reads it before it greets. */
	if (p->proxy == PROXY_HAPROXY || p->proxy == PROXY_HAPROXY_V2) {
		if (p->proxy == PROXY_HAPROXY)
			n = proxy_v1(c, sv, buf, sizeof(buf));
		else
			n = proxy_v2(c, sv, bin, sizeof(bin));
		if (n < 0) {
			msg_warn("cannot build PROXY header for unknown[%s]", s->ip);
			goto fail;
		}
		if (upstream_write(s, p->proxy == PROXY_HAPROXY ?
		    (const void *)buf : (const void *)bin, (size_t)n) < 0) {
			msg_warn("upstream %s: write PROXY header: %s",
			    p->upstream_text, strerror(errno));
			goto fail;
		}
	}
	if (upstream_reply(s, greet, p->upstream_timeout_ms, "CONNECT") < 0)
		goto fail;
	if (p->proxy != PROXY_XCLIENT)
		return (0);

	if (greet->code / 100 != 2) {
		msg_warn("upstream %s: greeting: %.*s", p->upstream_text,
		    (int)strcspn(greet->text, "\r\n"), greet->text);
		goto fail;
	}
	n = snprintf(buf, sizeof(buf), "EHLO %s\r\n", p->myhostname);
	if (n < 0 || (size_t)n >= sizeof(buf) || upstream_write(s, buf, (size_t)n) < 0 ||
	    upstream_reply(s, &s->r2, p->upstream_timeout_ms, "EHLO") < 0)
		goto fail;
	if (s->r2.code != 250 ||
	    !xclient_offered(s->r2.text, s->r2.len, attrs, sizeof(attrs)))
		goto refused;
	if ((n = xclient_command(c, sv, attrs, buf, sizeof(buf))) < 0)
		goto fail;
	if (upstream_write(s, buf, (size_t)n) < 0 ||
	    upstream_reply(s, &s->r2, p->upstream_timeout_ms, "XCLIENT") < 0)
		goto fail;
	if (s->r2.code / 100 != 2)
		goto refused;
	/*
	 * Postfix answers with a fresh 220 greeting: that is the greeting.
	 * Others say "250 Ok": the first greeting then stands.
	 */
	if (s->r2.code == 220)
		*greet = s->r2;
	return (0);
refused:
	msg_warn("upstream %s does not accept XCLIENT ADDR "
	    "(check smtpd_authorized_xclient_hosts)", p->upstream_text);
fail:
	upstream_close(s);
	return (-1);
}

/* Count a finished command; replies 4xx/5xx are errors, as in smtpd. */
static void
count(struct session *s, size_t idx, int code)
{
	s->total[idx]++;
	if (code < 400)
		s->ok[idx]++;
	else
		s->errors++;
}

/* After an error reply, smtpd slows down a client past the soft limit. */
static void
error_sleep(struct session *s)
{
	struct timespec ts;

	if (s->p->error_sleep_ms <= 0 || s->errors < s->p->soft_error_limit ||
	    s->errors >= s->p->hard_error_limit)
		return;
	ts.tv_sec = s->p->error_sleep_ms / 1000;
	ts.tv_nsec = (s->p->error_sleep_ms % 1000) * 1000000;
	log_flush();
	nanosleep(&ts, NULL);
}

/*
 * Read one client command line.  GO_ON with the line in s->line, or
 * END after logging the timeout / lost connection.  *too_long set when
 * the line was cut.
 */
static int
client_line(struct session *s, size_t *len, int *too_long)
{
	int	rc;

	rc = netio_read_line(&s->cl, s->line, s->p->line_limit + 1, len,
	    too_long, s->p->timeout_ms, s->p->per_record);
	if (rc == NETIO_OK)
		return (GO_ON);
	if (rc == NETIO_TIMEOUT) {
		client_reply(s, "421 4.4.2 %s Error: timeout exceeded",
		    s->p->myhostname);
		msg_info("timeout after %s from unknown[%s]", s->last, s->ip);
	} else
		msg_info("lost connection after %s from unknown[%s]",
		    s->last, s->ip);
	return (END);
}

/* The command's table entry; verb is upper-cased into vbuf. */
static size_t
classify(const char *line, size_t len, char *vbuf, size_t vcap)
{
	size_t	i, n;

	/* NUL or other control bytes make it junk, never forwarded. */
	for (i = 0; i < len; i++)
		if ((unsigned char)line[i] < 32 && line[i] != '\t')
			return (CMD_UNKNOWN);
	n = strcspn(line, " \t");
	if (n == 0 || n >= vcap)
		return (CMD_UNKNOWN);
	for (i = 0; i < n; i++)
		vbuf[i] = (char)toupper((unsigned char)line[i]);
	vbuf[n] = 0;
	for (i = 0; i < CMD_UNKNOWN; i++)
		if (strcmp(cmds[i].name, vbuf) == 0)
			return (i);
	return (CMD_UNKNOWN);
}

/*
 * X21 mode (postscreen's name): the client has a complete greeting but
 * no service; QUIT is answered politely, anything else gets the 421.
 */
static void
x21(struct session *s, int send_greeting)
{
	char	vbuf[16];
	size_t	len, idx;
	int	tl;

	if (send_greeting && client_reply(s, "220 %s", s->p->banner) < 0) {
		msg_info("lost connection after %s from unknown[%s]", s->last, s->ip);
		return;
	}
	if (client_line(s, &len, &tl) == END)
		return;
	idx = tl ? CMD_UNKNOWN : classify(s->line, len, vbuf, sizeof(vbuf));
	s->last = cmds[idx].name;
	if (cmds[idx].kind == K_QUIT) {
		s->total[idx]++;
		s->ok[idx]++;
		client_reply(s, "221 2.0.0 Bye");
	} else {
		s->total[idx]++;
		client_reply(s, "421 4.3.2 Service currently unavailable");
	}
}

/* Relay 334 rounds of AUTH: each client line goes up as it is. */
static int
auth_rounds(struct session *s, struct reply *r)
{
	size_t	len;
	int	tl;

	while (r->code == 334) {
		if (client_write(s, r->text, r->len) < 0) {
			msg_info("lost connection after AUTH from unknown[%s]", s->ip);
			return (END);
		}
		if (client_line(s, &len, &tl) == END)
			return (END);
		if (tl) {
			/* Never forward a cut line; cancel the exchange. */
			memcpy(s->line, "*", 2);
			len = 1;
		}
		if (upstream_send_line(s, len) < 0 ||
		    upstream_reply(s, r, s->p->upstream_timeout_ms, "AUTH") < 0)
			return (-1);
	}
	return (GO_ON);
}

/*
 * Stream the message after the upstream's 354.  GO_ON: the upstream's
 * final reply is in *r.  END: the client is gone (logged).  -1: the
 * upstream failed; the client's data has been read to its end.
 */
static int
data_stream(struct session *s, struct reply *r)
{
	struct dotstuff d;
	int64_t	deadline = netio_now() + s->p->timeout_ms;
	size_t	used, outlen;
	int	rc, updead = 0;

	dotstuff_init(&d);
	while (!d.done) {
		if (netio_avail(&s->cl) == 0) {
			if (!s->p->per_record)
				deadline = netio_now() + s->p->timeout_ms;
			rc = netio_fill(&s->cl, deadline);
			if (rc == NETIO_TIMEOUT) {
				client_reply(s, "421 4.4.2 %s Error: timeout exceeded",
				    s->p->myhostname);
				msg_info("timeout after DATA (%zu bytes) from unknown[%s]",
				    d.bytes, s->ip);
				return (END);
			}
			if (rc != NETIO_OK) {
				msg_info("lost connection after DATA (%zu bytes) from unknown[%s]",
				    d.bytes, s->ip);
				return (END);
			}
			continue;
		}
		outlen = 0;
		used = dotstuff_feed(&d, s->cl.buf + s->cl.off,
		    netio_avail(&s->cl), s->out, &outlen);
		/* Per-record deadline: each line gets the full time. */
		if (s->p->per_record && memchr(s->cl.buf + s->cl.off, '\n', used))
			deadline = netio_now() + s->p->timeout_ms;
		s->cl.off += used;
		if (!updead && outlen > 0 && upstream_write(s, s->out, outlen) < 0) {
			msg_warn("upstream %s: %s while sending message data",
			    s->p->upstream_text, errno == EPIPE ||
			    errno == ECONNRESET ? "lost connection" : strerror(errno));
			updead = 1;
			upstream_close(s);
		}
	}
	if (updead)
		return (-1);
	if (upstream_reply(s, r, s->p->data_done_timeout_ms, "end of DATA") < 0)
		return (-1);
	return (GO_ON);
}

/* The disconnect line: "ehlo=1 mail=1 ... commands=N" or "=ok/total". */
static void
log_disconnect(struct session *s)
{
	char	buf[600];
	size_t	i, o;
	int	ok = 0, total = 0, n;

	n = snprintf(buf, sizeof(buf), "disconnect from unknown[%s]", s->ip);
	o = n > 0 ? (size_t)n : 0;
	for (i = 0; i < NCMDS && o < sizeof(buf); i++) {
		char	name[16];
		size_t	k;

		if (s->total[i] == 0)
			continue;
		for (k = 0; cmds[i].name[k] && k < sizeof(name) - 1; k++)
			name[k] = (char)tolower((unsigned char)cmds[i].name[k]);
		name[k] = 0;
		ok += s->ok[i];
		total += s->total[i];
		if (s->ok[i] == s->total[i])
			n = snprintf(buf + o, sizeof(buf) - o, " %s=%d", name, s->ok[i]);
		else
			n = snprintf(buf + o, sizeof(buf) - o, " %s=%d/%d",
			    name, s->ok[i], s->total[i]);
		if (n > 0)
			o += (size_t)n;
	}
	if (o < sizeof(buf)) {
		/* smtpd: "commands=0/0" for a client that said nothing. */
		if (ok == total && total > 0)
			snprintf(buf + o, sizeof(buf) - o, " commands=%d", total);
		else
			snprintf(buf + o, sizeof(buf) - o, " commands=%d/%d", ok, total);
	}
	msg_info("%s", buf);
}

/*
 * The deep tests already greeted the client and answered its EHLO: say
 * EHLO upstream with the same name and keep the reply to ourselves.
 */
static int
replay_ehlo(struct session *s)
{
	char	name[HANDOFF_EHLO_MAX + 1], buf[HANDOFF_EHLO_MAX + 16];
	size_t	i;
	int	n;

	for (i = 0; s->h->ehlo[i] && i < HANDOFF_EHLO_MAX; i++)
		name[i] = (unsigned char)s->h->ehlo[i] <= ' ' ? '?' : s->h->ehlo[i];
	name[i] = 0;
	n = snprintf(buf, sizeof(buf), "EHLO %s\r\n", name);
	if (n < 0 || (size_t)n >= sizeof(buf) || upstream_write(s, buf, (size_t)n) < 0 ||
	    upstream_reply(s, &s->r2, s->p->upstream_timeout_ms, "EHLO") < 0)
		return (-1);
	s->total[1]++;
	s->last = "EHLO";
	if (s->r2.code != 250)
		return (-1);
	s->ok[1]++;
	return (0);
}

/* The greeting to the client; -1: client gone. */
static int
greet(struct session *s, const struct reply *g)
{
	const char *t;
	size_t	len;

	if (s->h->flags & HANDOFF_F_TEASER_SENT) {
		/* "220-" went out: one final line, whatever the upstream's shape. */
		t = reply_last_text(g, &len);
		return (client_reply(s, "220 %.*s", (int)len, t));
	}
	return (client_write(s, g->text, g->len));
}

/* Bytes from the upstream that no command asked for. */
static int
upstream_unsolicited(struct session *s)
{
	char c;

	return (netio_avail(&s->up) > 0 ||
	    recv(s->upfd, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0);
}

/* The argument after "FROM:"/"TO:" (or a HELO name), for log lines. */
static void
remember_arg(char *dst, size_t cap, const char *line, const char *prefix)
{
	const char *p = line + strcspn(line, " ");
	size_t n;

	while (*p == ' ')
		p++;
	if (prefix != NULL) {
		if (strncasecmp(p, prefix, strlen(prefix)) != 0) {
			dst[0] = 0;
			return;
		}
		p += strlen(prefix);
		while (*p == ' ')
			p++;
		if (*p == '<')
			p++;
	}
	n = strcspn(p, prefix != NULL ? "> " : " ");
	snprintf(dst, cap, "%.*s", (int)n, p);
}

/*
 * Keep what smtpd's reject lines show, and log the upstream's refusals
 * of RCPT as smtpd would, so that log tools see them in the worker's
 * log too.
 */
static void
note_reply(struct session *s, size_t idx, const struct reply *r)
{
	char rcpt[256];
	size_t n;

	if ((idx == 0 || idx == 1) && r->code == 250) {
		remember_arg(s->helo, sizeof(s->helo), s->line, NULL);
		s->esmtp = idx == 1;
	} else if (strcmp(cmds[idx].name, "MAIL") == 0 && r->code == 250) {
		remember_arg(s->sender, sizeof(s->sender), s->line, "FROM:");
	} else if (strcmp(cmds[idx].name, "RSET") == 0) {
		s->sender[0] = 0;
	} else if (strcmp(cmds[idx].name, "RCPT") == 0 && r->code >= 400) {
		remember_arg(rcpt, sizeof(rcpt), s->line, "TO:");
		n = strcspn(r->text, "\r\n");
		msg_info("NOQUEUE: reject: RCPT from unknown[%s]: %.*s; from=<%s> to=<%s> "
		    "proto=%s helo=<%s>", s->ip, (int)n, r->text, s->sender, rcpt,
		    s->esmtp ? "ESMTP" : "SMTP", s->helo);
	}
}

/*
 * backend_upstream_greeting = local: the MTA is reached at the first
 * command that needs it.  QUIT, NOOP and RSET before that are answered
 * here, as smtpd answers them before it connects to a proxy filter.
 * Returns GO_ON (upstream open: forward the command), ANSWERED (answered
 * here: *code as after a reply), or END.
 */
static int
upstream_late_open(struct session *s, size_t idx, int *code)
{
	const char *verb = cmds[idx].name;

	if (cmds[idx].kind == K_QUIT) {
		count(s, idx, 221);
		client_reply(s, "221 2.0.0 Bye");
		return (END);
	}
	if (strcmp(verb, "NOOP") == 0 || strcmp(verb, "RSET") == 0) {
		count(s, idx, *code = 250);
		return (client_reply(s, "250 2.0.0 Ok") < 0 ? END : ANSWERED);
	}
	if (upstream_open(s, &s->r1) < 0 || s->r1.code / 100 != 2) {
		if (s->upfd >= 0)
			msg_warn("upstream %s: greeting: %.*s", s->p->upstream_text,
			    (int)strcspn(s->r1.text, "\r\n"), s->r1.text);
		upstream_close(s);
		count(s, idx, 421);
		client_reply(s, "421 4.3.2 Service currently unavailable");
		return (END);
	}
	return (GO_ON);
}

/*
 * The command loop.  Returns when the session is over; the dead-upstream
 * cases fall back to x21() so that the client always gets an answer.
 */
static void
command_loop(struct session *s)
{
	const struct smtpd_params *p = s->p;
	struct reply *r = &s->r1, *shown;
	char	vbuf[16];
	size_t	len, idx;
	int	tl, rc, code;

	for (;;) {
		if (s->errors >= p->hard_error_limit) {
			client_reply(s, "421 4.7.0 %s Error: too many errors",
			    p->myhostname);
			msg_info("too many errors after %s from unknown[%s]",
			    s->last, s->ip);
			return;
		}
		if (client_line(s, &len, &tl) == END)
			return;
		if (tl) {
			/*
			 * Decision: a command line over line_length_limit is
			 * answered here and never forwarded (a cut command
			 * could mean something else upstream); smtpd would
			 * truncate it.  It counts as an error and as junk.
			 */
			idx = CMD_UNKNOWN;
		} else
			idx = classify(s->line, len, vbuf, sizeof(vbuf));
		s->last = cmds[idx].name;
		/*
		 * smtpd_junk_command_limit, as smtpd counts it: past the limit
		 * each junk command (NOOP, VRFY, ETRN, RSET) is still answered
		 * but adds an error, and the hard error limit ends the session.
		 */
		if ((cmds[idx].flags & F_JUNK) && s->junk++ > p->junk_limit)
			s->errors++;
		if (s->upfd < 0 && cmds[idx].kind != K_UNKNOWN &&
		    cmds[idx].kind != K_NOTREC && cmds[idx].kind != K_NOTIMPL) {
			rc = upstream_late_open(s, idx, &code);
			if (rc == END)
				return;
			if (rc == ANSWERED) {
				rc = 0;
				goto replied;
			}
		}
		/*
		 * QUIT goes on to the MTA, but the 221 is ours, as smtpd
		 * does with its proxy filter: the MTA's answer carries
		 * nothing, and waiting for it costs the worker a wake-up.
		 */
		if (cmds[idx].kind == K_QUIT) {
			(void)upstream_send_line(s, len);
			count(s, idx, 221);
			client_reply(s, "221 2.0.0 Bye");
			return;
		}
		switch (cmds[idx].kind) {
		case K_UNKNOWN:
			count(s, idx, code = 500);
			if (tl)
				rc = client_reply(s, "500 5.5.0 Error: line too long");
			else
				rc = client_reply(s, "500 5.5.2 Error: command not recognized");
			goto replied;
		case K_NOTREC:
			count(s, idx, code = 502);
			rc = client_reply(s, "502 5.5.2 Error: command not recognized");
			goto replied;
		case K_NOTIMPL:
			count(s, idx, code = 502);
			rc = client_reply(s, "502 5.5.1 Error: command not implemented");
			goto replied;
		default:
			break;
		}

		/*
		 * One command, one reply: anything the upstream says unasked
		 * means the two sides no longer agree (a PROXY header sent to
		 * a listener that does not expect one answers with an error
		 * of its own), and relaying on would shift every reply.
		 */
		if (upstream_unsolicited(s)) {
			msg_warn("upstream %s sent a reply nobody asked for before %s: "
			    "check backend_proxy_protocol against the upstream's "
			    "configuration", p->upstream_text, s->last);
			goto upstream_lost;
		}
		/* Forward, with CRLF whatever the client used. */
		s->line[len] = 0;
		if (upstream_send_line(s, len) < 0) {
			msg_warn("upstream %s: %s while sending %s",
			    p->upstream_text, strerror(errno), s->last);
			upstream_close(s);
			goto upstream_lost;
		}
		if (upstream_reply(s, r, p->upstream_timeout_ms, s->last) < 0)
			goto upstream_lost;
		shown = r;
		code = r->code;
		if (cmds[idx].kind == K_AUTH) {
			if ((rc = auth_rounds(s, r)) == END)
				return;
			if (rc < 0)
				goto upstream_lost;
		}
		if (cmds[idx].kind == K_DATA && r->code == 354) {
			if (client_write(s, r->text, r->len) < 0) {
				msg_info("lost connection after DATA from unknown[%s]",
				    s->ip);
				return;
			}
			rc = data_stream(s, r);
			if (rc == END)
				return;
			if (rc < 0) {
				count(s, idx, 451);
				if (client_reply(s, "451 4.3.0 Error: queue file write error") < 0)
					return;
				/* The upstream is gone: no more service. */
				x21(s, 0);
				return;
			}
			s->sender[0] = 0;
			/* 250 from the upstream is the only 250 for a message. */
			count(s, idx, r->code == 250 ? 250 : (r->code < 400 ? 451 : r->code));
			code = r->code;
			if (r->code != 250 && r->code < 400) {
				code = 451;
				rc = client_reply(s, "451 4.3.0 Error: queue file write error");
				goto replied;
			}
		} else {
			if (idx == 1 && r->code == 250) {	/* EHLO */
				reply_ehlo_rewrite(r, &s->r2);
				shown = &s->r2;
			}
			count(s, idx, r->code);
			code = r->code;
			note_reply(s, idx, r);
		}
		rc = client_write(s, shown->text, shown->len);
		if (r->code == 421) {
			/* The upstream hangs up; so do we. */
			upstream_close(s);
			return;
		}
replied:
		if (rc < 0) {
			msg_info("lost connection after %s from unknown[%s]",
			    s->last, s->ip);
			return;
		}
		if (code >= 400)
			error_sleep(s);
	}

upstream_lost:
	client_reply(s, "421 4.3.2 Service currently unavailable");
}

void
session_run(const struct smtpd_params *p, const struct handoff *h, int cfd)
{
	/*
	 * One session at a time per worker: its memory is allocated once,
	 * and only the small head is cleared (clearing 60 KB of buffers
	 * for every client cost more than the rest of a short session).
	 */
	static struct session *s;
	static char *line;
	int	x21_mode;

	if ((s == NULL && (s = malloc(sizeof(*s))) == NULL) ||
	    (line == NULL && (line = malloc(p->line_limit + 3)) == NULL)) {
		msg_warn("out of memory for a session");
		close(cfd);
		return;
	}
	memset(s, 0, offsetof(struct session, cl));
	s->line = line;
	s->p = p;
	s->h = h;
	s->upfd = -1;
	s->last = "CONNECT";
	addr_ip_str((const struct sockaddr *)&h->client, s->ip, sizeof(s->ip));
	/* TCP_NODELAY came with the fd: the screen's listeners set it. */
	netio_init(&s->cl, cfd, h->pending, h->pending_len);
	netio_init(&s->up, -1, NULL, 0);
	memset(&s->r1, 0, offsetof(struct reply, text));
	memset(&s->r2, 0, offsetof(struct reply, text));
	s->r1.text[0] = s->r2.text[0] = '\0';
	msg_info("connect from unknown[%s]", s->ip);

	x21_mode = (h->flags & HANDOFF_F_X21) != 0;
	if (!x21_mode && (h->flags & HANDOFF_F_GREETED)) {
		/* The screen greeted already: the MTA at the first command. */
		command_loop(s);
		goto done;
	}
	if (!x21_mode && p->local_greeting && h->ehlo[0] == 0) {
		/* Our own 220 now; the MTA at the first command that needs it. */
		if (client_reply(s, "220 %s", p->banner) < 0)
			msg_info("lost connection after CONNECT from unknown[%s]", s->ip);
		else
			command_loop(s);
		goto done;
	}
	if (!x21_mode && upstream_open(s, &s->r1) < 0) {
		if (h->flags & (HANDOFF_F_TEASER_SENT | HANDOFF_F_X21))
			x21_mode = 1;	/* never a bare 421 after "220-" */
		else {
			client_reply(s, "421 4.3.2 Service currently unavailable");
			goto done;
		}
	}
	/* A refusal greeting after the teaser cannot be shown as it is. */
	if (!x21_mode && (h->flags & HANDOFF_F_TEASER_SENT) && s->r1.code / 100 != 2) {
		msg_warn("upstream %s: greeting: %.*s", p->upstream_text,
		    (int)strcspn(s->r1.text, "\r\n"), s->r1.text);
		upstream_close(s);
		x21_mode = 1;
	}
	if (x21_mode) {
		x21(s, 1);
		goto done;
	}
	if (h->ehlo[0] != 0) {
		if (replay_ehlo(s) < 0) {
			upstream_close(s);
			x21(s, 0);
			goto done;
		}
	} else if (greet(s, &s->r1) < 0) {
		msg_info("lost connection after CONNECT from unknown[%s]", s->ip);
		goto done;
	}
	command_loop(s);
done:
	log_disconnect(s);
	upstream_close(s);
	/* After a 421 the client may still have commands in flight. */
	if (s->hung_up_on && !s->cl.eof)
		handoff_drain_client(cfd);
	close(cfd);
}
