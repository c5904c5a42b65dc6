/*
 * lines - logical lines of main.cf-style files.
 *
 * Reads byte by byte through stdio (files are small and read once), so
 * that a NUL byte or an endless line is seen and reported with its line
 * number instead of being truncated or eating memory.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/lines.h"

struct lines {
	FILE	*fp;
	char	*path;
	const char *what;
	int	 lineno;	/* physical lines read so far */
	char	*phys;		/* current physical line */
	size_t	 plen;
	int	 pending;	/* phys holds a line not yet consumed */
	int	 eof;
	char	*logical;	/* the logical line handed out */
	size_t	 llen;
};

int
conf_err_set(struct conf_err *err, const char *file, int line,
    const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
	err->line = line;
	va_start(ap, fmt);
	vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
	va_end(ap);
	return -1;
}

struct lines *
lines_open(const char *path, const char *what, struct conf_err *err)
{
	struct lines *l;

	if ((l = calloc(1, sizeof(*l))) == NULL ||
	    (l->phys = malloc(LINES_MAX + 1)) == NULL ||
	    (l->logical = malloc(LINES_MAX + 1)) == NULL ||
	    (l->path = strdup(path)) == NULL) {
		if (l != NULL) {
			free(l->phys);
			free(l->logical);
		}
		free(l);
		conf_err_set(err, path, 0, "out of memory");
		return NULL;
	}
	l->what = what;
	if ((l->fp = fopen(path, "r")) == NULL) {
		conf_err_set(err, path, 0, "cannot open file: %s",
		    strerror(errno));
		lines_close(l);
		return NULL;
	}
	return l;
}

void
lines_close(struct lines *l)
{
	if (l == NULL)
		return;
	if (l->fp != NULL)
		fclose(l->fp);
	free(l->phys);
	free(l->logical);
	free(l->path);
	free(l);
}

/* Read one physical line into l->phys; 0 at EOF, -1 on error. */
static int
read_phys(struct lines *l, struct conf_err *err)
{
	int c;

	if (l->eof)
		return 0;
	l->plen = 0;
	for (;;) {
		c = getc(l->fp);
		if (c == EOF) {
			if (ferror(l->fp))
				return conf_err_set(err, l->path, l->lineno + 1,
				    "read error: %s", strerror(errno));
			l->eof = 1;
			if (l->plen == 0)
				return 0;
			break;
		}
		if (c == '\n')
			break;
		if (c == '\0')
			return conf_err_set(err, l->path, l->lineno + 1,
			    "NUL character in line");
		if (l->plen >= LINES_MAX)
			return conf_err_set(err, l->path, l->lineno + 1,
			    "line longer than %d bytes", LINES_MAX);
		l->phys[l->plen++] = (char)c;
	}
	l->phys[l->plen] = '\0';
	l->lineno++;
	return 1;
}

static int
is_skipped(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return *s == '\0' || *s == '#';
}

static void
rtrim(char *s, size_t *len)
{
	while (*len > 0 && isspace((unsigned char)s[*len - 1]))
		s[--*len] = '\0';
}

int
lines_next(struct lines *l, const char **text, int *lineno,
    struct conf_err *err)
{
	const char *p;
	size_t n;
	int rc;

	/* Find the start of a logical line. */
	for (;;) {
		if (!l->pending) {
			if ((rc = read_phys(l, err)) <= 0)
				return rc;
		}
		l->pending = 0;
		if (is_skipped(l->phys))
			continue;
		if (isspace((unsigned char)l->phys[0]))
			return conf_err_set(err, l->path, l->lineno,
			    "continuation line (it starts with white space) before any %s",
			    l->what);
		break;
	}
	*lineno = l->lineno;
	memcpy(l->logical, l->phys, l->plen + 1);
	l->llen = l->plen;
	rtrim(l->logical, &l->llen);

	/* Append continuation lines; comments do not end a logical line. */
	for (;;) {
		if ((rc = read_phys(l, err)) < 0)
			return -1;
		if (rc == 0)
			break;
		if (is_skipped(l->phys))
			continue;
		if (!isspace((unsigned char)l->phys[0])) {
			l->pending = 1;
			break;
		}
		for (p = l->phys; isspace((unsigned char)*p); p++)
			;
		n = strlen(p);
		if (l->llen + 1 + n > LINES_MAX)
			return conf_err_set(err, l->path, *lineno,
			    "logical line longer than %d bytes", LINES_MAX);
		l->logical[l->llen++] = ' ';
		memcpy(l->logical + l->llen, p, n + 1);
		l->llen += n;
		rtrim(l->logical, &l->llen);
	}
	*text = l->logical;
	return 1;
}
