/*
 * access - the permanent allow/deny list (screen_access_list), as
 * postscreen_access_list: permit_mynetworks, permit, reject, dunno and
 * type:table items, left to right, the first that decides wins.
 */
#ifndef DOORMAN_ACCESS_H
#define DOORMAN_ACCESS_H

#include <sys/socket.h>

#include "conf/conf.h"

enum access_verdict {
	ACCESS_DUNNO,
	ACCESS_PERMIT,
	ACCESS_REJECT
};

struct access_list;

/* Parse screen_access_list and mynetworks, open the tables; NULL + *err. */
struct access_list *access_list_create(struct conf *, struct conf_err *);
void	access_list_free(struct access_list *);
enum access_verdict access_list_check(const struct access_list *, const struct sockaddr *client);
/* mynetworks alone (permit_mynetworks). */
int	access_mynetworks_match(const struct access_list *, const struct sockaddr *client);

#endif
