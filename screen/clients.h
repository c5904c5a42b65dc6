/*
 * clients - what the screen knows per client IP, shared by every
 * session of that IP: how many connections it has in the screen and in
 * workers (the per-client connection count limit), and the expiry
 * times of its tests, which concurrent sessions share as postscreen's
 * do: the cache is read by the first session only.
 *
 * An entry lives while anything refers to it and is freed when the last
 * reference goes.
 */
#ifndef DOORMAN_CLIENTS_H
#define DOORMAN_CLIENTS_H

#include <sys/socket.h>
#include <uthash.h>

#include "cache/cache.h"

struct client_ip {
	UT_hash_handle hh;
	unsigned char key[17];		/* family byte + 16 address bytes */
	int	in_screen;		/* sessions held by the screen */
	int	in_workers;		/* sessions handed to a worker, not yet done */
	int	has_record;		/* rec holds the cache's (or fresh) expiries */
	int	new_claimed;		/* a session already logs PASS NEW for it */
	struct cache_record rec;
};

/* Find or create the entry for this address (never NULL; aborts on OOM). */
struct client_ip *clients_get(const struct sockaddr *);
/* Drop one screen or worker reference; frees the entry when unused. */
void	clients_release_screen(struct client_ip *);
void	clients_release_worker(struct client_ip *);
size_t	clients_count(void);

#endif
