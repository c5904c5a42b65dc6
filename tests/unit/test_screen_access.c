/*
 * test_screen_access - screen_access_list as postscreen_access_list:
 * left to right, the first item that decides wins; table results are
 * lists of the same words; dunno ends the search undecided.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>

#include "conf/conf.h"
#include "screen/access.h"

/* Arrays, not pointers: Criterion hands parameters to a new process. */
struct access_case {
	char	list[96];
	char	mynetworks[32];
	char	client[32];
	enum access_verdict want;
};

static struct sockaddr_storage
addr(const char *ip)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, ip, &s6->sin6_addr);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		inet_pton(AF_INET, ip, &s4->sin_addr);
	}
	return (ss);
}

ParameterizedTestParameters(access, verdicts)
{
	static struct access_case cases[] = {
		{ "permit_mynetworks", "127.0.0.0/8", "127.0.0.1", ACCESS_PERMIT },
		{ "permit_mynetworks", "127.0.0.0/8", "192.0.2.1", ACCESS_DUNNO },
		{ "permit_mynetworks", "127.0.0.0/8 [::1]/128", "::1", ACCESS_PERMIT },
		{ "reject", "127.0.0.0/8", "127.0.0.1", ACCESS_REJECT },
		{ "permit_mynetworks, reject", "127.0.0.0/8", "192.0.2.1", ACCESS_REJECT },
		{ "dunno, reject", "127.0.0.0/8", "192.0.2.1", ACCESS_DUNNO },
		{ "cidr:{ {192.0.2.0/24 reject}, {0.0.0.0/0 permit} }", "127.0.0.0/8",
		  "192.0.2.9", ACCESS_REJECT },
		{ "cidr:{ {192.0.2.0/24 reject}, {0.0.0.0/0 permit} }", "127.0.0.0/8",
		  "198.51.100.1", ACCESS_PERMIT },
		/* dunno in a table result goes on after the table */
		{ "cidr:{ {192.0.2.0/24 dunno} }, reject", "127.0.0.0/8", "192.0.2.1",
		  ACCESS_REJECT },
		/* permit_mynetworks inside a result */
		{ "cidr:{ {127.0.0.0/8 permit_mynetworks} }, reject", "127.0.0.1/32",
		  "127.0.0.2", ACCESS_REJECT },
		{ "cidr:{ {2001:db8::/32 reject} }", "127.0.0.0/8", "2001:db8::1", ACCESS_REJECT },
	};

	return (cr_make_param_array(struct access_case, cases,
	    sizeof(cases) / sizeof(cases[0])));
}

ParameterizedTest(struct access_case *c, access, verdicts)
{
	struct conf *conf = conf_create();
	struct access_list *al;
	struct conf_err err;
	struct sockaddr_storage ss = addr(c->client);
	char a1[300], a2[300];
	enum access_verdict got;

	snprintf(a1, sizeof(a1), "screen_access_list=%s", c->list);
	snprintf(a2, sizeof(a2), "mynetworks=%s", c->mynetworks);
	memset(&err, 0, sizeof(err));
	cr_assert_eq(conf_override(conf, a1, &err), 0, "%s", err.reason);
	cr_assert_eq(conf_override(conf, a2, &err), 0, "%s", err.reason);
	al = access_list_create(conf, &err);
	cr_assert_not_null(al, "%s: %s", c->list, err.reason);
	got = access_list_check(al, (struct sockaddr *)&ss);
	cr_assert_eq(got, c->want, "%s for %s: got %d, want %d", c->list, c->client, got,
	    c->want);
	access_list_free(al);
	conf_free(conf);
}

Test(access, unknown_word_is_an_error)
{
	struct conf *conf = conf_create();
	struct conf_err err;

	memset(&err, 0, sizeof(err));
	cr_assert_eq(conf_override(conf, "screen_access_list=permit_everyone", &err), 0);
	cr_assert_null(access_list_create(conf, &err));
	cr_assert(strstr(err.reason, "permit_everyone") != NULL, "reason: %s", err.reason);
	conf_free(conf);
}
