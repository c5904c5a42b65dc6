/*
 * log - messages in Postfix's form, to syslog (facility mail) or to
 * maillog_file ("Mmm dd hh:mm:ss host tag[pid]: text", written
 * unbuffered line by line).  The tag is "$syslog_name/postscreen" in the
 * screen and "$syslog_name/smtpd" in a worker.
 *
 * msg_warn() prefixes "warning: ", msg_fatal() "fatal: " and exits 1.
 * Before log_open(), everything goes to stderr (start-up errors).
 */
#ifndef DOORMAN_LOG_H
#define DOORMAN_LOG_H

#include <stddef.h>

/* tag: e.g. "postfix-doorman/postscreen"; maillog_file NULL or "" = syslog. */
int	log_open(const char *tag, const char *maillog_file);
/* Change the tag (e.g. the screen logs pool lines as .../master). */
void	log_set_tag(const char *tag);
/* Bumped by each log_open(): a line meant once per destination can tell a new one. */
unsigned log_generation(void);
const char *log_tag(void);
/* Host name shown in maillog_file lines (default: gethostname's first label). */
void	log_set_hostname(const char *name);
/* Also copy every message to stderr (interactive commands). */
void	log_also_stderr(int on);
void	log_close(void);
/*
 * Hold whole lines back (maillog_file only) until log_flush(), the
 * buffer fills, log_buffer(0), log_close() or exit.  A process that
 * holds lines flushes them before it waits for anything, and before it
 * hands a client to another process, so that lines keep their order.
 */
void	log_buffer(int on);
void	log_flush(void);
/* In the child of a fork without exec: our own pid from now on. */
void	log_forked(void);

void	msg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	msg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	msg_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Log with an explicit tag for one line (e.g. "$syslog_name/master"). */
void	msg_info_tag(const char *tag, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void	msg_warn_tag(const char *tag, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Format an elapsed time as postscreen does: at most 2 significant
 * digits and 2 decimals, trailing zeros dropped ("0.21", "1.5", "6").
 */
char   *log_time_format(double seconds, char *buf, size_t len);

/*
 * C-escape up to max bytes of data for a log line (\r \n \t \\ \ooo),
 * as PREGREET and friends show the client's bytes.
 */
char   *log_escape(const void *data, size_t len, size_t max, char *buf, size_t buflen);

#endif
