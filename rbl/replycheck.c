/*
 * replycheck - what smtpd does to an expanded rbl reply before it goes
 * out: the [45]DD check, the enhanced status code added or its class
 * forced, the 510-byte cut; and the filter for values from the network.
 * (The expansion itself is conf_expand_with() from conf/.)
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "rbl/rbl_int.h"

int
rbl_template_needs_txt(const char *t)
{
	return t && (strstr(t, "rbl_reason") || strstr(t, "rbl_txt"));
}

void
rbl_sanitize(char *s)
{
	/* smtpd_expansion_filter's default: printable ASCII and tab. */
	for (; *s; s++)
		if (!((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f) && *s != '\t')
			*s = '_';
}

/* "d.d.d" with 1-3 digits each; the length, or 0. */
static size_t
enhanced_len(const char *s)
{
	const char *p = s;
	int part, k;

	for (part = 0; part < 3; part++) {
		for (k = 0; k < 3 && isdigit((unsigned char)*p); k++)
			p++;
		if (k == 0 || (part == 0 && k != 1))
			return 0;
		if (part < 2) {
			if (*p != '.')
				return 0;
			p++;
		}
	}
	if (*p != '\0' && *p != ' ')
		return 0;
	return p - s;
}

int
rbl_reply_check(char *r, size_t len)
{
	char tmp[RBL_REPLY_MAX * 2 + 16];
	size_t el;
	int code;

	if (!(r[0] == '4' || r[0] == '5') || !isdigit((unsigned char)r[1]) ||
	    !isdigit((unsigned char)r[2]) || r[3] != ' ')
		return -1;
	code = (r[0] - '0') * 100 + (r[1] - '0') * 10 + (r[2] - '0');
	el = enhanced_len(r + 4);
	if (el > 0 && (r[4] == '2' || r[4] == '4' || r[4] == '5')) {
		r[4] = r[0];		/* class digit forced to match the code */
	} else {
		/* No enhanced code: X.7.1 goes in, X being the code's class. */
		snprintf(tmp, sizeof(tmp), "%.3s %c.7.1 %s", r, r[0], r + 4);
		snprintf(r, len, "%s", tmp);
	}
	/* Trailing space of an empty text is harmless; cut at 510 bytes. */
	if (strlen(r) > RBL_REPLY_MAX)
		r[RBL_REPLY_MAX] = '\0';
	return code;
}
