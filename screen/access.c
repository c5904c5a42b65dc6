/*
 * access - evaluate screen_access_list for a client address.
 *
 * A table's result is itself a list of the same words (no tables
 * inside); "dunno" in a result goes on after the table, at top level it
 * ends the search undecided.  Unknown words or lookup errors are logged
 * and the rest of the list is ignored, as postscreen does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/addr.h"
#include "conf/log.h"
#include "conf/table.h"
#include "screen/access.h"

enum access_kind {
	ITEM_PERMIT_MYNETWORKS,
	ITEM_PERMIT,
	ITEM_REJECT,
	ITEM_DUNNO,
	ITEM_TABLE
};

struct access_item {
	enum access_kind kind;
	struct table *table;
};

struct access_list {
	struct access_item *items;
	size_t	nitems;
	struct cidr *mynet;
	size_t	nmynet;
	struct table **mynet_tables;
	size_t	nmynet_tables;
};

static int
access_word(const char *w, enum access_kind *kind)
{
	static const struct {
		const char *name;
		enum access_kind kind;
	} words[] = {
		{ "permit_mynetworks", ITEM_PERMIT_MYNETWORKS },
		{ "permit", ITEM_PERMIT },
		{ "reject", ITEM_REJECT },
		{ "dunno", ITEM_DUNNO },
	};
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strcasecmp(w, words[i].name) == 0) {
			*kind = words[i].kind;
			return (0);
		}
	}
	return (-1);
}

static void
access_err_at(struct conf *c, const char *name, struct conf_err *err,
    const char *fmt, const char *arg)
{
	const char *file;
	int line;

	conf_origin(c, name, &file, &line);
	snprintf(err->file, sizeof(err->file), "%s", file);
	err->line = line;
	snprintf(err->reason, sizeof(err->reason), fmt, arg);
}

/* "cidr:/path" and friends, as opposed to a bare IPv6 network. */
static int
access_is_table(const char *w)
{
	size_t n = strspn(w, "abcdefghijklmnopqrstuvwxyz");

	return (n > 0 && w[n] == ':');
}

static int
access_parse_mynetworks(struct access_list *al, struct conf *c,
    struct conf_err *err)
{
	char **v = conf_list(c, "mynetworks");
	const char *why;
	size_t n;

	for (n = 0; v[n] != NULL; n++)
		;
	al->mynet = calloc(n + 1, sizeof(*al->mynet));
	al->mynet_tables = calloc(n + 1, sizeof(*al->mynet_tables));
	if (al->mynet == NULL || al->mynet_tables == NULL)
		msg_fatal("out of memory");
	for (n = 0; v[n] != NULL; n++) {
		if (cidr_parse(v[n], &al->mynet[al->nmynet], &why) == 0) {
			al->nmynet++;
		} else if (access_is_table(v[n])) {
			struct table *t = table_open(v[n], err);

			if (t == NULL) {
				conf_err_anchor(c, "mynetworks", err);
				return (-1);
			}
			al->mynet_tables[al->nmynet_tables++] = t;
		} else {
			char buf[400];

			snprintf(buf, sizeof(buf), "bad mynetworks entry \"%.200s\": %.150s",
			    v[n], why);
			access_err_at(c, "mynetworks", err, "%s", buf);
			return (-1);
		}
	}
	return (0);
}

struct access_list *
access_list_create(struct conf *c, struct conf_err *err)
{
	struct access_list *al;
	char **v = conf_list(c, "screen_access_list");
	size_t n;

	if ((al = calloc(1, sizeof(*al))) == NULL)
		msg_fatal("out of memory");
	if (access_parse_mynetworks(al, c, err) != 0)
		goto fail;
	for (n = 0; v[n] != NULL; n++)
		;
	if ((al->items = calloc(n + 1, sizeof(*al->items))) == NULL)
		msg_fatal("out of memory");
	for (n = 0; v[n] != NULL; n++) {
		struct access_item *it = &al->items[al->nitems];

		if (access_word(v[n], &it->kind) == 0) {
			al->nitems++;
			continue;
		}
		if (strchr(v[n], ':') == NULL) {
			access_err_at(c, "screen_access_list", err,
			    "unknown screen_access_list item \"%.200s\"", v[n]);
			goto fail;
		}
		it->kind = ITEM_TABLE;
		if ((it->table = table_open(v[n], err)) == NULL) {
			conf_err_anchor(c, "screen_access_list", err);
			goto fail;
		}
		al->nitems++;
	}
	return (al);
fail:
	access_list_free(al);
	return (NULL);
}

void
access_list_free(struct access_list *al)
{
	size_t i;

	if (al == NULL)
		return;
	for (i = 0; i < al->nitems; i++)
		if (al->items[i].table != NULL)
			table_close(al->items[i].table);
	for (i = 0; i < al->nmynet_tables; i++)
		table_close(al->mynet_tables[i]);
	free(al->items);
	free(al->mynet);
	free(al->mynet_tables);
	free(al);
}

int
access_mynetworks_match(const struct access_list *al, const struct sockaddr *sa)
{
	char ip[ADDR_STRLEN];
	const char *val;
	size_t i;

	for (i = 0; i < al->nmynet; i++)
		if (cidr_match(&al->mynet[i], sa))
			return (1);
	if (al->nmynet_tables == 0)
		return (0);
	addr_ip_str(sa, ip, sizeof(ip));
	for (i = 0; i < al->nmynet_tables; i++)
		if (table_lookup(al->mynet_tables[i], ip, &val) == 1)
			return (1);
	return (0);
}

/*
 * Evaluate a table result: the same words, without tables.  Returns 1
 * when it decided (*verdict set), 0 to go on, -1 on an unknown word.
 */
static int
access_table_result(const struct access_list *al, const struct table *t,
    const char *result, const struct sockaddr *sa, enum access_verdict *verdict)
{
	char **w = conf_split_list(result);
	enum access_kind kind;
	int rc = 0;
	size_t i;

	for (i = 0; w != NULL && w[i] != NULL; i++) {
		if (access_word(w[i], &kind) != 0) {
			msg_warn("%s: unknown command: %s -- ignoring the remainder of this access list",
			    table_name(t), w[i]);
			rc = -1;
			break;
		}
		if (kind == ITEM_DUNNO)
			break;
		if (kind == ITEM_PERMIT_MYNETWORKS) {
			if (!access_mynetworks_match(al, sa))
				continue;
			kind = ITEM_PERMIT;
		}
		*verdict = kind == ITEM_PERMIT ? ACCESS_PERMIT : ACCESS_REJECT;
		rc = 1;
		break;
	}
	conf_free_list(w);
	return (rc);
}

enum access_verdict
access_list_check(const struct access_list *al, const struct sockaddr *sa)
{
	enum access_verdict verdict;
	char ip[ADDR_STRLEN];
	const char *val;
	size_t i;
	int rc;

	for (i = 0; i < al->nitems; i++) {
		const struct access_item *it = &al->items[i];

		switch (it->kind) {
		case ITEM_PERMIT_MYNETWORKS:
			if (access_mynetworks_match(al, sa))
				return (ACCESS_PERMIT);
			break;
		case ITEM_PERMIT:
			return (ACCESS_PERMIT);
		case ITEM_REJECT:
			return (ACCESS_REJECT);
		case ITEM_DUNNO:
			return (ACCESS_DUNNO);
		case ITEM_TABLE:
			addr_ip_str(sa, ip, sizeof(ip));
			if (table_lookup(it->table, ip, &val) != 1)
				break;
			rc = access_table_result(al, it->table, val, sa, &verdict);
			if (rc == 1)
				return (verdict);
			if (rc < 0)
				return (ACCESS_DUNNO);
			break;
		}
	}
	return (ACCESS_DUNNO);
}
