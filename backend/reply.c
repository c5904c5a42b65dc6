/*
 * reply - upstream SMTP replies (see reply.h).
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "backend/reply.h"

static int
line_code(const char *p, size_t n)
{
	if (n < 3 || !isdigit((unsigned char)p[0]) ||
	    !isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]))
		return (-1);
	if (n > 3 && p[3] != ' ' && p[3] != '-')
		return (-1);
	if (p[0] < '2' || p[0] > '5')
		return (-1);
	return ((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'));
}

/* Append one line (without line end) to r; 1 if it was the last line. */
static int
add_line(struct reply *r, const char *p, size_t n)
{
	int	code = line_code(p, n);

	if (code < 0 || (r->lines > 0 && code != r->code))
		return (REPLY_BAD);
	if (r->lines >= REPLY_LINES_MAX || r->len + n + 3 > sizeof(r->text))
		return (REPLY_BAD);
	r->code = code;
	memcpy(r->text + r->len, p, n);
	r->len += n;
	/* "250" alone is a valid last line; give it its space. */
	if (n == 3)
		r->text[r->len++] = ' ';
	memcpy(r->text + r->len, "\r\n", 3);
	r->len += 2;
	r->lines++;
	return (n == 3 || p[3] == ' ');
}

int
reply_read(struct netio *io, struct reply *r, int64_t timeout_ms)
{
	char	line[REPLY_LINE_MAX];
	size_t	n;
	int	tl, rc, last;

	r->code = 0;
	r->lines = 0;
	r->len = 0;
	r->text[0] = 0;
	for (;;) {
		/* The deadline covers each line: a slow MTA is not hostile. */
		rc = netio_read_line(io, line, sizeof(line), &n, &tl, timeout_ms, 1);
		if (rc != NETIO_OK)
			return (rc);
		if ((last = add_line(r, line, n)) < 0)
			return (REPLY_BAD);
		if (last)
			return (NETIO_OK);
	}
}

int
reply_parse(struct reply *r, const char *text, size_t len)
{
	const char *p = text, *end = text + len, *eol;
	size_t	n;
	int	last = 0;

	r->code = 0;
	r->lines = 0;
	r->len = 0;
	r->text[0] = 0;
	while (p < end && !last) {
		eol = memchr(p, '\n', (size_t)(end - p));
		n = eol ? (size_t)(eol - p) : (size_t)(end - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if ((last = add_line(r, p, n)) < 0)
			return (REPLY_BAD);
		p = eol ? eol + 1 : end;
	}
	return (last ? 0 : REPLY_BAD);
}

const char *
reply_last_text(const struct reply *r, size_t *len)
{
	const char *end, *start;

	*len = 0;
	if (r->len < 2)
		return ("");
	end = r->text + r->len - 2;		/* the final CRLF */
	start = end;
	while (start > r->text && start[-1] != '\n')
		start--;
	if (end - start < 4)
		return (end);
	*len = (size_t)(end - start - 4);
	return (start + 4);
}

/* Keywords the worker does not relay (DESIGN §10). */
static int
dropped(const char *kw, size_t n)
{
	static const char *const drop[] = {
		"CHUNKING", "BINARYMIME", "STARTTLS", "XCLIENT", "XFORWARD", NULL
	};
	int	i;

	for (i = 0; drop[i]; i++)
		if (strlen(drop[i]) == n && strncasecmp(kw, drop[i], n) == 0)
			return (1);
	return (0);
}

void
reply_ehlo_rewrite(const struct reply *in, struct reply *out)
{
	const char *p = in->text, *end = in->text + in->len, *eol, *kw;
	size_t	n, k;
	int	first = 1;

	out->code = in->code;
	out->lines = 0;
	out->len = 0;
	out->text[0] = 0;
	for (; p < end; p = eol + 1) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			break;
		n = (size_t)(eol - p) + 1;
		kw = p + 4;
		for (k = 0; kw + k < eol && !isspace((unsigned char)kw[k]); k++)
			;
		if (!first && n > 4 && dropped(kw, k))
			continue;
		first = 0;
		memcpy(out->text + out->len, p, n);
		if (n > 4)
			out->text[out->len + 3] = '-';
		out->len += n;
		out->lines++;
	}
	/* The last line kept says "NNN ". */
	if (out->lines > 0) {
		p = out->text + out->len - 1;
		while (p > out->text && p[-1] != '\n')
			p--;
		((char *)p)[3] = ' ';
	}
	out->text[out->len] = 0;
}
