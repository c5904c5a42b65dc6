/*
 * clients - per-IP table of the screen (uthash), keyed by the binary
 * address so that "::ffff:192.0.2.1" and "192.0.2.1" are one client
 * (addresses are unmapped at accept).
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "conf/log.h"
#include "screen/clients.h"

static struct client_ip *clients_table;

static void
clients_key(const struct sockaddr *sa, unsigned char key[17])
{
	memset(key, 0, 17);
	key[0] = (unsigned char)sa->sa_family;
	if (sa->sa_family == AF_INET)
		memcpy(key + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	else if (sa->sa_family == AF_INET6)
		memcpy(key + 1, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
}

struct client_ip *
clients_get(const struct sockaddr *sa)
{
	struct client_ip *ci;
	unsigned char key[17];

	clients_key(sa, key);
	HASH_FIND(hh, clients_table, key, sizeof(key), ci);
	if (ci != NULL)
		return (ci);
	if ((ci = calloc(1, sizeof(*ci))) == NULL)
		msg_fatal("out of memory");
	memcpy(ci->key, key, sizeof(key));
	HASH_ADD(hh, clients_table, key, sizeof(ci->key), ci);
	return (ci);
}

static void
clients_maybe_free(struct client_ip *ci)
{
	if (ci->in_screen > 0 || ci->in_workers > 0)
		return;
	HASH_DEL(clients_table, ci);
	free(ci);
}

void
clients_release_screen(struct client_ip *ci)
{
	if (ci->in_screen > 0)
		ci->in_screen--;
	clients_maybe_free(ci);
}

void
clients_release_worker(struct client_ip *ci)
{
	if (ci->in_workers > 0)
		ci->in_workers--;
	clients_maybe_free(ci);
}

size_t
clients_count(void)
{
	return (HASH_COUNT(clients_table));
}
