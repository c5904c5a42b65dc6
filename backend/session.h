/*
 * session - one handed-off client, relayed to the upstream MTA
 * (DESIGN §7, §10): PROXY/XCLIENT, the greeting after the teaser, the
 * command loop with smtpd's limits, streamed DATA, smtpd's log lines.
 */
#ifndef DOORMAN_SESSION_H
#define DOORMAN_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "conf/addr.h"
#include "backend/handoff.h"

enum proxy_mode {
	PROXY_NONE,		/* plain relay */
	PROXY_HAPROXY,		/* PROXY v1 line */
	PROXY_HAPROXY_V2,	/* PROXY v2 header */
	PROXY_XCLIENT		/* XCLIENT command */
};

/* What a session needs from the config, read once at start-up. */
struct smtpd_params {
	const char *myhostname;
	const char *banner;		/* expanded smtpd_banner */
	const char *upstream_text;	/* backend_upstream as written */
	struct endpoint upstream;
	enum proxy_mode proxy;
	int64_t	connect_timeout_ms;	/* backend_connect_timeout */
	int64_t	upstream_timeout_ms;	/* one upstream reply */
	int64_t	data_done_timeout_ms;	/* the upstream's reply to "." */
	int64_t	timeout_ms;		/* smtpd_timeout */
	int	per_record;		/* smtpd_per_record_deadline */
	long	hard_error_limit;	/* smtpd_hard_error_limit */
	long	soft_error_limit;	/* smtpd_soft_error_limit */
	int64_t	error_sleep_ms;		/* smtpd_error_sleep_time */
	long	junk_limit;		/* smtpd_junk_command_limit */
	size_t	line_limit;		/* line_length_limit */
	int	local_greeting;		/* backend_upstream_greeting = local */
};

/* Run one session on client_fd (closed on return). */
void	session_run(const struct smtpd_params *, const struct handoff *, int client_fd);

#endif
