/*
 * dotstuff - the DATA stream from client to upstream, byte by byte, in
 * bounded chunks (DESIGN §7, §10; SMTP smuggling, CVE-2023-51764).
 *
 * The end of data is <CR><LF>.<CR><LF> only.  A line ending in a bare LF
 * is content: it goes out with CRLF.  The client's own dot-stuffing is
 * kept as it is, and a line "." that is not the end (bare LF before or
 * after it) goes out as "..", so that the upstream ends the message
 * exactly where the worker does and nowhere else.
 */
#ifndef DOORMAN_DOTSTUFF_H
#define DOORMAN_DOTSTUFF_H

#include <stddef.h>

struct dotstuff {
	int	state;
	int	crlf_before;		/* the last line ended in CRLF */
	int	done;			/* end of data seen and written */
	int	bare_lf;		/* lines that ended in a bare LF */
	size_t	bytes;			/* client bytes consumed */
};

/* Output can be up to 4 bytes per input byte (plus what was held). */
#define DOTSTUFF_OUT_MAX(inlen)	(4 * (inlen) + 8)

void	dotstuff_init(struct dotstuff *);

/*
 * Consume client bytes in[0..inlen) and append what the upstream must
 * get to out (room for DOTSTUFF_OUT_MAX(inlen)), *outlen updated.  Stops
 * right after the end of data (done set, ".\r\n" written): the bytes
 * after it are the client's next commands.  Returns the bytes consumed.
 */
size_t	dotstuff_feed(struct dotstuff *, const char *in, size_t inlen,
	    char *out, size_t *outlen);

#endif
