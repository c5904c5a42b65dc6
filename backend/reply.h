/*
 * reply - SMTP replies from the upstream: reading a (multi-line) reply
 * with bounds, the EHLO rewrite, and the text of the last line.
 */
#ifndef DOORMAN_REPLY_H
#define DOORMAN_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "backend/netio.h"

#define REPLY_MAX	8192	/* whole reply text */
#define REPLY_LINE_MAX	1024	/* one line; RFC 5321 says 512 */
#define REPLY_LINES_MAX	100

#define REPLY_BAD	(-3)	/* not an SMTP reply: not 3 digits, codes differ */

struct reply {
	int	code;			/* e.g. 250 */
	int	lines;
	size_t	len;
	char	text[REPLY_MAX];	/* every line with CRLF, NUL-terminated */
};

/*
 * Read one reply: NETIO_OK, NETIO_EOF, NETIO_TIMEOUT, NETIO_ERROR or
 * REPLY_BAD.  Bare LF from the upstream becomes CRLF; over-long lines
 * are cut, too many lines or bytes make the reply REPLY_BAD.
 */
int	reply_read(struct netio *, struct reply *, int64_t timeout_ms);

/* Parse reply text (as reply_read stores it) into r; 0 or REPLY_BAD. */
int	reply_parse(struct reply *r, const char *text, size_t len);

/* The text of the last line, after "NNN " / "NNN-"; *len without CRLF. */
const char *reply_last_text(const struct reply *, size_t *len);

/*
 * Rewrite an EHLO reply: drop the lines announcing CHUNKING, BINARYMIME,
 * STARTTLS, XCLIENT and XFORWARD (what the worker does not relay), and
 * re-mark the last remaining line "NNN ".  The first line (the
 * greeting name) always stays.
 */
void	reply_ehlo_rewrite(const struct reply *in, struct reply *out);

#endif
