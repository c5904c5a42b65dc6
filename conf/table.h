/*
 * table - Postfix-style lookup tables, read once at start-up.
 *
 *   texthash:/path      "key value" lines, keys case-insensitive
 *   cidr:/path          "network result" lines, first match wins,
 *                       IPv4 and IPv6; keys looked up are addresses
 *   inline:{ {k=v}, {k2 = v2} }  or  inline:{k=v, k2=v2}
 *   cidr:{ {192.0.2.0/24 reject}, {0.0.0.0/0 dunno} }
 *   static:value        every key finds value
 *   hash:/path, btree:/path, lmdb:/path, cdb:/path
 *                       read from their postmap source file /path as
 *                       texthash (one info line says so); a missing
 *                       source file is an error
 *
 * In a file, a line that starts with white space continues the value
 * before it and "#" starts a comment line.  Errors name file and line.
 */
#ifndef DOORMAN_TABLE_H
#define DOORMAN_TABLE_H

#include "conf/conf.h"

struct table;

/* Open "type:name".  NULL and *err (file:line: reason) on error. */
struct table *table_open(const char *spec, struct conf_err *err);
void	table_close(struct table *);

/* The spec as given ("cidr:/etc/doorman/access"), for log lines. */
const char *table_name(const struct table *);

/*
 * Look up key.  1 and *value (valid until table_close) when found, 0 when
 * not found.  cidr tables take an address text as key and return 0 for
 * non-addresses.
 */
int	table_lookup(const struct table *, const char *key, const char **value);

/* Number of entries (status output). */
size_t	table_size(const struct table *);

/* Non-zero when table_open() knows the type ("cidr", "hash", ...). */
int	table_type_known(const char *type);

#endif
