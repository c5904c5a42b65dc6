/*
 * screen - the state of the doorman daemon that its modules share: the
 * loop, the two evaluations of the config (normal and stress, as
 * postscreen evaluates its stress-dependent parameters twice), the
 * values read from them, and the counters.
 */
#ifndef DOORMAN_SCREEN_H
#define DOORMAN_SCREEN_H

#include <ev.h>
#include <stddef.h>

#include "conf/conf.h"
#include "screen/timerlist.h"

#define SCREEN_MAX_OVERRIDES	64	/* -o options doorman takes (and passes on) */

enum screen_action {
	ACTION_IGNORE,
	ACTION_ENFORCE,
	ACTION_DROP
};

/* Values that do not change between normal and stress. */
struct screen_params {
	const char *myhostname;
	const char *smtpd_banner;
	const char *greet_banner;	/* "" = no pregreet test */
	const char *service_name;
	enum screen_action greet_action;
	enum screen_action denylist_action;
	int	respectful_logging;
	long	client_connection_count_limit;	/* 0 = none */
	long	pre_queue_limit;		/* effective, never 0 */
	long	post_queue_limit;
	ev_tstamp post_queue_timeout;
	long	command_count_limit;
	size_t	line_length_limit;
	enum screen_action dnsbl_action;
	unsigned enabled_tests;		/* CACHE_BIT() of the tests that run */
	long	greet_ttl;
	int	local_greeting;		/* backend_upstream_greeting = local */
};

struct screen_counters {
	unsigned long connections, allowlisted, denylisted, pregreet, hangup;
	unsigned long pass_new, pass_old, handed_off, rejected_busy;
	unsigned long rejected_conn_limit, rejected_pre_queue;
	unsigned long dnsbl_listed, dnsbl_allowlisted;
};

struct screen {
	struct ev_loop *loop;
	struct conf *conf;		/* stress empty */
	struct conf *conf_stress;	/* stress=yes */
	struct screen_params p;
	struct access_list *access;
	struct cache *cache;		/* NULL: no screen_cache_map */
	struct rbl *rbl;
	int	stress;			/* the screen's own STRESS flag */
	/* Equal timeouts share one timer: index 0 normal, 1 stress. */
	struct timerlist greet_wait[2];
	struct timerlist command_time[2];
	struct timerlist first_command[2];	/* smtpd_timeout, after the screen's 220 */
	size_t	held;			/* sessions in the screen (check queue) */
	ev_tstamp started;
	struct screen_counters n;
	const char *config_dir;
	char  **overrides;		/* -o name=value given to doorman */
	const char *exe_dir;		/* default daemon_directory */
};

extern struct screen screen;

/*
 * Either stress (the screen's own STRESS or the pool's) puts every
 * ${stress?...} value the screen uses on its stress branch.
 */
int	screen_in_stress(void);
/* The config in force for the current stress state. */
struct conf *screen_conf_in_force(void);
int	screen_action_parse(const char *, enum screen_action *);

#endif
