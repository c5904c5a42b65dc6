/*
 * engine - the dummy SMTP engine of the screen (reference §2.8).
 *
 * It never relays anything: a client that failed a test under
 * "enforce" gets the failed test's reply for every RCPT and VRFY, so its
 * log shows helo, sender and recipient; a client refused after the
 * teaser gets the greeting completed and a 421 for its first command.
 * Limits: screen_command_count_limit, screen_command_time_limit (the
 * whole line, re-armed per command) and line_length_limit.  The line
 * buffer is allocated here, never for clients that stay silent.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "conf/log.h"
#include "screen/engine.h"
#include "screen/screen.h"
#include "screen/session.h"

#define ENGINE_NAME_MAX	255	/* HELO name and sender kept for log lines */

struct engine {
	enum engine_mode mode;
	const char *x21_reply;
	char   *buf;
	size_t	len, cap;
	long	commands;
	int	esmtp;
	int	have_mail;
	char	last_cmd[16];
	char	helo[ENGINE_NAME_MAX + 1];
	char	sender[ENGINE_NAME_MAX + 1];
};

static int
engine_reply(struct session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
engine_reply(struct session *s, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return (-1);
	if ((size_t)n > sizeof(buf) - 3)
		n = (int)sizeof(buf) - 3;
	memcpy(buf + n, "\r\n", 3);
	return (session_send(s, buf));
}

void
engine_free(struct engine *e)
{
	if (e == NULL)
		return;
	free(e->buf);
	free(e);
}

static void
engine_generic_421(struct session *s)
{
	(void)engine_reply(s, "421 %s Service unavailable - try again later",
	    screen.p.myhostname);
}

static void
engine_time_limit(struct timer_entry *te)
{
	struct session *s = session_of_timer(te);

	msg_info("COMMAND TIME LIMIT from %s after %s", session_client_str(s),
	    s->engine->last_cmd);
	(void)engine_reply(s, "421 4.4.2 %s Error: timeout exceeded", screen.p.myhostname);
	session_close(s, 1);
}

static void
engine_arm_timer(struct session *s)
{
	int stressed = screen_in_stress();

	timerlist_add(&screen.command_time[stressed], &s->te, engine_time_limit);
}

/* "FROM:<addr>" style argument: the address between < >, or NULL. */
static const char *
engine_path_arg(const char *arg, const char *keyword, char *out, size_t len)
{
	const char *p, *end;
	size_t kw = strlen(keyword);

	if (strncasecmp(arg, keyword, kw) != 0)
		return (NULL);
	p = arg + kw;
	while (*p == ' ')
		p++;
	if (*p != '<' || (end = strchr(p, '>')) == NULL)
		return (NULL);
	p++;
	snprintf(out, len, "%.*s", (int)(end - p), p);
	return (out);
}

static const char *
engine_rcpt_reply(const struct session *s, char *buf, size_t len)
{
	if (s->fail_reply != NULL)
		snprintf(buf, len, "%s", s->fail_reply);
	else
		snprintf(buf, len, "450 4.3.2 Service currently unavailable");
	return (buf);
}

/* 421 and 521 replies end the session right after they are sent. */
static int
engine_hangup_reply(const char *reply)
{
	return (strncmp(reply, "421", 3) == 0 || strncmp(reply, "521", 3) == 0);
}

static void
engine_ehlo(struct session *s, const char *arg)
{
	char msg[2048];

	if (*arg == '\0') {
		(void)engine_reply(s, "501 Syntax: EHLO hostname");
		return;
	}
	snprintf(s->engine->helo, sizeof(s->engine->helo), "%s", arg);
	s->engine->esmtp = 1;
	snprintf(msg, sizeof(msg), "250-%s\r\n250-SIZE %ld\r\n%s250-ETRN\r\n"
	    "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 DSN\r\n",
	    screen.p.myhostname, conf_int(screen.conf, "message_size_limit"),
	    conf_bool(screen.conf, "screen_disable_vrfy_command") ? "" : "250-VRFY\r\n");
	(void)session_send(s, msg);
}

/* One command line (without its line end).  Returns -1 if the session is gone. */
static int
engine_command(struct session *s, char *line)
{
	struct engine *e = s->engine;
	char verb[16], addr[ENGINE_NAME_MAX + 1], reply[600];
	const char *arg;
	size_t vlen, i;

	vlen = strcspn(line, " ");
	for (i = 0; i < vlen && i < sizeof(verb) - 1; i++)
		verb[i] = (char)toupper((unsigned char)line[i]);
	verb[i] = '\0';
	arg = line + vlen;
	while (*arg == ' ')
		arg++;

	if (++e->commands > screen.p.command_count_limit && strcmp(verb, "QUIT") != 0) {
		msg_info("COMMAND COUNT LIMIT from %s after %s", session_client_str(s),
		    e->last_cmd);
		engine_generic_421(s);
		session_close(s, 1);
		return (-1);
	}
	if (e->mode == ENGINE_X21) {
		if (strcmp(verb, "QUIT") == 0)
			(void)engine_reply(s, "221 2.0.0 Bye");
		else
			(void)engine_reply(s, "%s", e->x21_reply);
		session_close(s, 1);
		return (-1);
	}
	if (strcmp(verb, "HELO") == 0) {
		if (*arg == '\0') {
			(void)engine_reply(s, "501 Syntax: HELO hostname");
		} else {
			snprintf(e->helo, sizeof(e->helo), "%s", arg);
			e->esmtp = 0;
			(void)engine_reply(s, "250 %s", screen.p.myhostname);
		}
	} else if (strcmp(verb, "EHLO") == 0) {
		engine_ehlo(s, arg);
	} else if (strcmp(verb, "MAIL") == 0) {
		if (conf_bool(screen.conf, "screen_helo_required") && e->helo[0] == '\0')
			(void)engine_reply(s, "503 5.5.1 Error: send HELO/EHLO first");
		else if (e->have_mail)
			(void)engine_reply(s, "503 5.5.1 Error: nested MAIL command");
		else if (engine_path_arg(arg, "FROM:", e->sender, sizeof(e->sender)) == NULL)
			(void)engine_reply(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
		else {
			e->have_mail = 1;
			(void)engine_reply(s, "250 2.1.0 Ok");
		}
	} else if (strcmp(verb, "RCPT") == 0) {
		if (!e->have_mail)
			(void)engine_reply(s, "503 5.5.1 Error: need MAIL command");
		else if (engine_path_arg(arg, "TO:", addr, sizeof(addr)) == NULL)
			(void)engine_reply(s, "501 5.5.4 Syntax: RCPT TO:<address>");
		else {
			engine_rcpt_reply(s, reply, sizeof(reply));
			msg_info("NOQUEUE: reject: RCPT from %s: %s; from=<%s>, to=<%s>, "
			    "proto=%s, helo=<%s>", session_client_str(s), reply, e->sender,
			    addr, e->esmtp ? "ESMTP" : "SMTP", e->helo);
			(void)engine_reply(s, "%s", reply);
			if (engine_hangup_reply(reply)) {
				session_close(s, 1);
				return (-1);
			}
		}
	} else if (strcmp(verb, "DATA") == 0 || strcmp(verb, "BDAT") == 0) {
		msg_info("%s without valid RCPT from %s", verb, session_client_str(s));
		if (strcmp(verb, "BDAT") == 0)
			(void)engine_reply(s, "502 5.5.1 Error: command not implemented");
		else if (*arg != '\0')
			(void)engine_reply(s, "501 5.5.4 Syntax: DATA");
		else if (!e->have_mail)
			(void)engine_reply(s, "503 5.5.1 Error: need RCPT command");
		else
			(void)engine_reply(s, "554 5.5.1 Error: no valid recipients");
		session_close(s, 1);
		return (-1);
	} else if (strcmp(verb, "RSET") == 0 || strcmp(verb, "NOOP") == 0) {
		if (verb[0] == 'R')
			e->have_mail = 0;
		(void)engine_reply(s, "250 2.0.0 Ok");
	} else if (strcmp(verb, "VRFY") == 0) {
		if (conf_bool(screen.conf, "screen_disable_vrfy_command"))
			(void)engine_reply(s, "502 5.5.1 VRFY command is disabled");
		else if (*arg == '\0')
			(void)engine_reply(s, "501 5.5.4 Syntax: VRFY address");
		else {
			(void)engine_reply(s, "%s", engine_rcpt_reply(s, reply, sizeof(reply)));
			if (engine_hangup_reply(reply)) {
				session_close(s, 1);
				return (-1);
			}
		}
	} else if (strcmp(verb, "ETRN") == 0) {
		(void)engine_reply(s, *arg == '\0' ? "500 Syntax: ETRN domain" :
		    "458 Unable to queue messages");
	} else if (strcmp(verb, "QUIT") == 0) {
		(void)engine_reply(s, "221 2.0.0 Bye");
		session_close(s, 1);
		return (-1);
	} else {
		(void)engine_reply(s, "502 5.5.2 Error: command not recognized");
		snprintf(e->last_cmd, sizeof(e->last_cmd), "UNIMPLEMENTED");
		return (0);
	}
	snprintf(e->last_cmd, sizeof(e->last_cmd), "%s", verb);
	return (0);
}

static void
engine_read_event(struct ev_loop *loop, ev_io *io, int revents)
{
	struct session *s = io->data;
	struct engine *e = s->engine;
	char *nl;
	ssize_t n;
	size_t used;

	(void)loop;
	(void)revents;
	n = recv(s->fd, e->buf + e->len, e->cap - e->len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		msg_info("HANGUP after %s from %s in tests after SMTP handshake",
		    session_elapsed_str(s), session_client_str(s));
		screen.n.hangup++;
		session_close(s, 1);
		return;
	}
	e->len += (size_t)n;
	while ((nl = memchr(e->buf, '\n', e->len)) != NULL) {
		used = (size_t)(nl - e->buf) + 1;
		*nl = '\0';
		if (nl > e->buf && nl[-1] == '\r')
			nl[-1] = '\0';
		/* A NUL inside the line ends it for parsing, never for framing. */
		if (engine_command(s, e->buf) < 0)
			return;
		memmove(e->buf, e->buf + used, e->len - used);
		e->len -= used;
		engine_arm_timer(s);
	}
	if (e->len == e->cap) {
		msg_info("COMMAND LENGTH LIMIT from %s after %s", session_client_str(s),
		    e->last_cmd);
		engine_generic_421(s);
		session_close(s, 1);
	}
}

void
engine_start(struct session *s, enum engine_mode mode, const char *reply)
{
	struct engine *e;

	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    (e->buf = malloc(screen.p.line_length_limit)) == NULL) {
		free(e);
		msg_warn("out of memory: closing %s", session_client_str(s));
		session_close(s, 0);
		return;
	}
	e->mode = mode;
	e->x21_reply = reply;
	e->cap = screen.p.line_length_limit;
	snprintf(e->last_cmd, sizeof(e->last_cmd), "CONNECT");
	s->engine = e;
	s->state = SESSION_ENGINE;
	/*
	 * The greeting is always completed, even for a client that
	 * pregreeted (postscreen sends it nothing): after a "220-" teaser,
	 * DESIGN §10 wants a "220 " line before any other code.
	 */
	if (!(s->flags & SESSION_F_GREETED) &&
	    engine_reply(s, "220 %s", screen.p.smtpd_banner) != 0) {
		session_close(s, 0);
		return;
	}
	ev_io_stop(screen.loop, &s->io);
	ev_io_init(&s->io, engine_read_event, s->fd, EV_READ);
	s->io.data = s;
	ev_io_start(screen.loop, &s->io);
	engine_arm_timer(s);
}
