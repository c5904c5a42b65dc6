/*
 * dotstuff - the DATA normaliser (see dotstuff.h).
 *
 * States, with what is held back (not yet written) in each:
 *	BOL	at the start of a line			(nothing)
 *	DOT	"." at the start of a line		"."
 *	DOTCR	".\r" at the start of a line		".\r"
 *	MID	inside a line				(nothing)
 *	CR	inside a line after a CR		"\r"
 * A bare CR inside a line is content and goes out as it came.
 */
#include <string.h>

#include "backend/dotstuff.h"

enum { S_BOL, S_DOT, S_DOTCR, S_MID, S_CR };

void
dotstuff_init(struct dotstuff *d)
{
	memset(d, 0, sizeof(*d));
	d->state = S_BOL;
	d->crlf_before = 1;	/* the DATA command's own line end */
}

#define PUT(s, n) do { memcpy(out + o, (s), (n)); o += (n); } while (0)

size_t
dotstuff_feed(struct dotstuff *d, const char *in, size_t inlen,
    char *out, size_t *outlen)
{
	size_t	i, o = *outlen;
	char	c;

	for (i = 0; i < inlen && !d->done; i++) {
		c = in[i];
		switch (d->state) {
		case S_BOL:
			if (c == '.')
				d->state = S_DOT;
			else if (c == '\r')
				d->state = S_CR;
			else if (c == '\n') {
				PUT("\r\n", 2);		/* bare LF: normalise */
				d->crlf_before = 0;
				d->bare_lf++;
			} else {
				PUT(&c, 1);
				d->state = S_MID;
			}
			break;
		case S_DOT:
			if (c == '\r')
				d->state = S_DOTCR;
			else if (c == '\n') {
				/* ".<LF>" is not the end: stuff it. */
				PUT("..\r\n", 4);
				d->crlf_before = 0;
				d->bare_lf++;
				d->state = S_BOL;
			} else {
				PUT(".", 1);
				PUT(&c, 1);
				d->state = S_MID;
			}
			break;
		case S_DOTCR:
			if (c == '\n') {
				if (d->crlf_before) {
					PUT(".\r\n", 3);
					d->done = 1;
				} else {
					/* "<LF>.<CR><LF>": content. */
					PUT("..\r\n", 4);
					d->crlf_before = 1;
				}
				d->state = S_BOL;
			} else if (c == '\r') {
				PUT(".\r", 2);
				d->state = S_CR;
			} else {
				PUT(".\r", 2);
				PUT(&c, 1);
				d->state = S_MID;
			}
			break;
		case S_MID:
			if (c == '\r')
				d->state = S_CR;
			else if (c == '\n') {
				PUT("\r\n", 2);
				d->crlf_before = 0;
				d->bare_lf++;
				d->state = S_BOL;
			} else
				PUT(&c, 1);
			break;
		case S_CR:
			if (c == '\n') {
				PUT("\r\n", 2);
				d->crlf_before = 1;
				d->state = S_BOL;
			} else if (c == '\r')
				PUT("\r", 1);
			else {
				PUT("\r", 1);
				PUT(&c, 1);
				d->state = S_MID;
			}
			break;
		}
	}
	d->bytes += i;
	*outlen = o;
	return (i);
}
