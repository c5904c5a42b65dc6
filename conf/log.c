/*
 * log - messages in Postfix's form, to syslog or to maillog_file.
 *
 * Every message is formatted into one bounded buffer and leaves in one
 * write(2) on an O_APPEND descriptor, so that the screen and its
 * workers can share a log file without tearing each other's lines.
 * A busy process may hold whole lines back (log_buffer()) and write
 * them together at its next pause (log_flush()): a write to a file
 * costs a journal update, and a client's session logs several lines.
 * Before log_open() everything goes to stderr as "program: text", which
 * is how start-up errors reach the admin.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "conf/log.h"

/* Longest text we emit; longer messages are cut (never split). */
#define LOG_LINE_MAX	4000
/* "Mmm dd hh:mm:ss host tag[pid]: ": host and tag are under 256 each. */
#define LOG_HEADER_MAX	600
/* Lines held back by log_buffer(): a few sessions' worth. */
#define LOG_HOLD_SIZE	16384

enum log_dest { DEST_STDERR, DEST_SYSLOG, DEST_FILE };

static enum log_dest dest = DEST_STDERR;
static int log_fd = -1;
static int also_stderr;
static char cur_tag[256];
static char host[256];
static char held[LOG_HOLD_SIZE];	/* whole lines, for log_fd */
static size_t held_len;
static int holding;
static unsigned generation;		/* log_open() calls so far */

static const char *
default_tag(void)
{
	if (cur_tag[0] != '\0')
		return cur_tag;
	return program_invocation_short_name;
}

const char *
log_tag(void)
{
	return default_tag();
}

void
log_set_hostname(const char *name)
{
	snprintf(host, sizeof(host), "%s", name ? name : "");
}

static const char *
log_host(void)
{
	char *dot;

	if (host[0] == '\0') {
		if (gethostname(host, sizeof(host) - 1) != 0)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		/* syslog shows the short name; so do we. */
		if ((dot = strchr(host, '.')) != NULL)
			*dot = '\0';
	}
	return host;
}

int
log_open(const char *tag, const char *maillog_file)
{
	int fd;

	log_close();
	generation++;
	if (tag != NULL)
		snprintf(cur_tag, sizeof(cur_tag), "%s", tag);
	if (maillog_file != NULL && *maillog_file != '\0') {
		/*
		 * /dev/stdout may be a socket (journald) that open() refuses;
		 * our own descriptor 1 is what the admin meant.
		 */
		if (strcmp(maillog_file, "/dev/stdout") == 0)
			fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
		else if (strcmp(maillog_file, "/dev/stderr") == 0)
			fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
		else
			fd = open(maillog_file,
			    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
			    0644);
		if (fd < 0)
			return -1;
		log_fd = fd;
		dest = DEST_FILE;
	} else {
		openlog(default_tag(), LOG_PID | LOG_NDELAY, LOG_MAIL);
		dest = DEST_SYSLOG;
	}
	return 0;
}

unsigned
log_generation(void)
{
	return (generation);
}

void
log_set_tag(const char *tag)
{
	snprintf(cur_tag, sizeof(cur_tag), "%s", tag ? tag : "");
	/* openlog() keeps our pointer; re-announce it after a change. */
	if (dest == DEST_SYSLOG)
		openlog(default_tag(), LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void
log_also_stderr(int on)
{
	also_stderr = on;
}

void
log_close(void)
{
	log_flush();
	if (dest == DEST_FILE && log_fd >= 0)
		close(log_fd);
	else if (dest == DEST_SYSLOG)
		closelog();
	log_fd = -1;
	dest = DEST_STDERR;
}

/* One write; retry only on EINTR so that a line never lands twice. */
static void
write_line(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

/*
 * The head of a file line, "Mmm dd hh:mm:ss host tag[pid]: ", made
 * again only when the second or the tag changes (a busy screen logs
 * several lines per connection).  The pid is asked once: a process that
 * forks without exec calls log_forked() in the child.
 */
static time_t head_time = -1;
static pid_t head_pid;

void
log_forked(void)
{
	head_pid = 0;
	head_time = -1;
	held_len = 0;		/* the parent's lines are the parent's */
}

static size_t
file_header(const char *tag, char *buf)
{
	static char head[LOG_HEADER_MAX];
	static size_t head_len;
	static char head_tag[256];
	time_t	now = time(NULL);
	struct tm tm;
	char	stamp[32];
	int	n;

	if (now != head_time || strcmp(tag, head_tag) != 0) {
		if (head_pid == 0)
			head_pid = getpid();
		localtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%b %d %H:%M:%S", &tm);
		n = snprintf(head, sizeof(head), "%s %s %.255s[%ld]: ", stamp,
		    log_host(), tag, (long)head_pid);
		head_len = n < 0 ? 0 : (size_t)n >= sizeof(head) ?
		    sizeof(head) - 1 : (size_t)n;
		snprintf(head_tag, sizeof(head_tag), "%s", tag);
		head_time = now;
	}
	memcpy(buf, head, head_len);
	return (head_len);
}

void
log_buffer(int on)
{
	static int registered;

	if (!on)
		log_flush();
	holding = on;
	/* Whatever way the process ends, held lines are written. */
	if (on && !registered && atexit(log_flush) == 0)
		registered = 1;
}

void
log_flush(void)
{
	int	saved = errno;

	if (held_len > 0 && log_fd >= 0)
		write_line(log_fd, held, held_len);
	held_len = 0;
	errno = saved;
}

static void
file_line(const char *line, size_t len)
{
	if (!holding) {
		write_line(log_fd, line, len);
		return;
	}
	if (held_len + len > sizeof(held))
		log_flush();
	if (len > sizeof(held)) {
		write_line(log_fd, line, len);
		return;
	}
	memcpy(held + held_len, line, len);
	held_len += len;
}

static void
emit(int prio, const char *tag, const char *prefix, const char *fmt,
    va_list ap)
{
	char	line[LOG_HEADER_MAX + LOG_LINE_MAX + 2];
	char	err[LOG_LINE_MAX + 300];
	char	*text, *p;
	size_t	hlen, plen, len;
	int	n, saved = errno;

	if (tag == NULL)
		tag = default_tag();
	/* The text is formatted once, in place, behind the file's head. */
	hlen = dest == DEST_FILE ? file_header(tag, line) : 0;
	text = line + hlen;
	plen = strlen(prefix);
	memcpy(text, prefix, plen);
	errno = saved;		/* keep %m meaningful */
	n = vsnprintf(text + plen, LOG_LINE_MAX - plen, fmt, ap);
	len = plen + (n < 0 ? 0 : (size_t)n >= LOG_LINE_MAX - plen ?
	    LOG_LINE_MAX - plen - 1 : (size_t)n);
	text[len] = '\0';

	/*
	 * One message, one line: control characters (a client's CR or LF
	 * that a caller forgot to escape) become '?', as in Postfix.
	 */
	for (p = text; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';

	if (dest == DEST_STDERR || also_stderr) {
		n = snprintf(err, sizeof(err), "%s: %s\n", tag, text);
		write_line(STDERR_FILENO, err, n < 0 ? 0 : (size_t)n >=
		    sizeof(err) ? sizeof(err) - 1 : (size_t)n);
	}
	if (dest == DEST_SYSLOG) {
		if (tag != default_tag()) {
			openlog(tag, LOG_PID | LOG_NDELAY, LOG_MAIL);
			syslog(prio, "%s", text);
			openlog(default_tag(), LOG_PID | LOG_NDELAY, LOG_MAIL);
		} else
			syslog(prio, "%s", text);
	} else if (dest == DEST_FILE) {
		text[len] = '\n';
		file_line(line, hlen + len + 1);
	}
	errno = saved;
}

void
msg_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(LOG_INFO, NULL, "", fmt, ap);
	va_end(ap);
}

void
msg_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(LOG_WARNING, NULL, "warning: ", fmt, ap);
	va_end(ap);
}

void
msg_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(LOG_ERR, NULL, "error: ", fmt, ap);
	va_end(ap);
}

void
msg_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(LOG_CRIT, NULL, "fatal: ", fmt, ap);
	va_end(ap);
	log_flush();
	exit(1);
}

void
msg_info_tag(const char *tag, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(LOG_INFO, tag, "", fmt, ap);
	va_end(ap);
}

void
msg_warn_tag(const char *tag, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(LOG_WARNING, tag, "warning: ", fmt, ap);
	va_end(ap);
}

/*
 * postscreen's rule: whole seconds from 10 on, one decimal from 1 on,
 * two below; then trailing zeros (and a bare point) go.
 */
char *
log_time_format(double seconds, char *buf, size_t len)
{
	char *p;
	int decimals;

	if (buf == NULL || len == 0)
		return buf;
	if (!(seconds > 0))		/* also catches NaN */
		seconds = 0;
	if (seconds > 1e15)
		seconds = 1e15;
	decimals = seconds >= 10 ? 0 : seconds >= 1 ? 1 : 2;
	snprintf(buf, len, "%.*f", decimals, seconds);
	if (strchr(buf, '.') != NULL) {
		p = buf + strlen(buf) - 1;
		while (p > buf && *p == '0')
			*p-- = '\0';
		if (*p == '.')
			*p = '\0';
	}
	return buf;
}

/*
 * C escapes as Postfix's escape() writes them; an escape is never cut
 * in half when buf runs out.
 */
char *
log_escape(const void *data, size_t len, size_t max, char *buf,
    size_t buflen)
{
	const unsigned char *s = data;
	char tmp[8];
	size_t i, off = 0, n;
	int c;

	if (buf == NULL || buflen == 0)
		return buf;
	if (len > max)
		len = max;
	for (i = 0; i < len; i++) {
		c = s[i];
		switch (c) {
		case '\a': memcpy(tmp, "\\a", 3); break;
		case '\b': memcpy(tmp, "\\b", 3); break;
		case '\f': memcpy(tmp, "\\f", 3); break;
		case '\n': memcpy(tmp, "\\n", 3); break;
		case '\r': memcpy(tmp, "\\r", 3); break;
		case '\t': memcpy(tmp, "\\t", 3); break;
		case '\v': memcpy(tmp, "\\v", 3); break;
		case '\\': memcpy(tmp, "\\\\", 3); break;
		default:
			if (c >= 0x20 && c < 0x7f) {
				tmp[0] = (char)c;
				tmp[1] = '\0';
			} else
				snprintf(tmp, sizeof(tmp), "\\%03o", c);
		}
		n = strlen(tmp);
		if (off + n >= buflen)
			break;
		memcpy(buf + off, tmp, n);
		off += n;
	}
	buf[off] = '\0';
	return buf;
}
