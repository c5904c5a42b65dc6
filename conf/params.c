/*
 * params - every parameter doorman knows, with its type and default.
 *
 * Defaults follow Postfix where Postfix has the parameter (including
 * the ${stress?{x}:{y}} forms of its stress-adaptive limits) and
 * DESIGN §10 where doorman settled its own.  A time's minimum is in
 * seconds.  myhostname and mydomain are computed once from the
 * machine's name, as Postfix does.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conf/params.h"

#define T_STR	CONF_STR
#define T_TIME	CONF_TIME
#define T_BOOL	CONF_BOOL
#define T_INT	CONF_INT
#define T_LIST	CONF_LIST
#define T_TABLE	CONF_TABLE

#define STRESS(a, b)	"${stress?{" a "}:{" b "}}"

static const struct conf_param params[] = {
	/* Where things are, and who we are. */
	{ "config_directory", T_STR, "/etc/doorman", 0, 0, 0, CHK_NONE, NULL },
	{ "daemon_directory", T_STR, "", 0, 0, 0, CHK_NONE, NULL },
	{ "data_directory", T_STR, "/var/lib/doorman", 0, 0, 0, CHK_NONE, NULL },
	{ "syslog_name", T_STR, "postfix-doorman", 0, 0, 0, CHK_NONE, NULL },
	{ "maillog_file", T_STR, "", 0, 0, 0, CHK_NONE, NULL },
	{ "myhostname", T_STR, NULL, 0, 0, 0, CHK_NONE, NULL },
	{ "mydomain", T_STR, NULL, 0, 0, 0, CHK_NONE, NULL },
	{ "mail_name", T_STR, "doorman", 0, 0, 0, CHK_NONE, NULL },
	{ "smtpd_banner", T_STR, "$myhostname ESMTP $mail_name", 0, 0, 0,
	    CHK_NONE, NULL },
	{ "mynetworks", T_LIST, "127.0.0.0/8 [::1]/128", 0, 0, 0,
	    CHK_NETWORKS, NULL },
	{ "stress", T_STR, "", 0, 0, 0, CHK_NONE, NULL },
	{ "respectful_logging", T_BOOL, "yes", 0, 0, 0, CHK_NONE, NULL },
	{ "line_length_limit", T_INT, "2048", 0, 1, 0, CHK_NONE, NULL },
	{ "message_size_limit", T_INT, "10240000", 0, 0, 0, CHK_NONE, NULL },
	{ "metrics_listen", T_STR, "", 0, 0, PARAM_EMPTY_OK, CHK_ENDPOINT,
	    NULL },

	/* The screen's listeners, the pool and the upstream MTA. */
	{ "listen", T_LIST, "0.0.0.0:25", 0, 0, 0, CHK_ENDPOINT_LIST, NULL },
	{ "backend_upstream", T_STR, "127.0.0.1:10025", 0, 0, 0,
	    CHK_ENDPOINT, NULL },
	{ "backend_proxy_protocol", T_STR, "", 0, 0, PARAM_EMPTY_OK, CHK_ENUM,
	    "haproxy|haproxy-v2|xclient" },
	{ "backend_process_limit", T_INT, "100", 0, 1, 0, CHK_NONE, NULL },
	{ "backend_max_use", T_INT, "100", 0, 1, 0, CHK_NONE, NULL },
	{ "backend_max_idle", T_TIME, "100s", 's', 1, 0, CHK_NONE, NULL },
	{ "backend_stress", T_STR, "adaptive", 0, 0, 0, CHK_ENUM,
	    "adaptive|on|off" },
	{ "backend_stress_warning_interval", T_TIME, "1000s", 's', 0, 0,
	    CHK_NONE, NULL },
	{ "backend_stress_cooldown", T_TIME, "60s", 's', 0, 0, CHK_NONE, NULL },
	{ "backend_connect_timeout", T_TIME, "10s", 's', 1, 0, CHK_NONE, NULL },
	/*
	 * relay: connect at once and relay the MTA's 220 (DESIGN §7);
	 * local: greet with $smtpd_banner and connect at the first command
	 * that needs the MTA, as smtpd_proxy_filter does.
	 */
	{ "backend_upstream_greeting", T_STR, "relay", 0, 0, 0, CHK_ENUM,
	    "relay|local" },
	{ "backend_upstream_timeout", T_TIME, "300s", 's', 1, 0, CHK_NONE,
	    NULL },
	{ "backend_restart_delay", T_TIME, "1s", 's', 0, 0, CHK_NONE, NULL },

	/* postscreen's parameters, as screen_*. */
	{ "screen_service_name", T_STR, "smtp", 0, 0, 0, CHK_NONE, NULL },
	{ "screen_access_list", T_LIST, "permit_mynetworks", 0, 0, 0,
	    CHK_ACCESS, NULL },
	{ "screen_denylist_action", T_STR,
	    "${screen_blacklist_action?{$screen_blacklist_action}:{ignore}}",
	    0, 0, 0, CHK_ACTION, NULL },
	{ "screen_blacklist_action", T_STR, "", 0, 0, PARAM_EMPTY_OK,
	    CHK_ACTION, NULL },
	{ "screen_greet_banner", T_STR, "$smtpd_banner", 0, 0, 0, CHK_NONE,
	    NULL },
	{ "screen_greet_wait", T_TIME, STRESS("2", "6") "s", 's', 1, 0,
	    CHK_NONE, NULL },
	{ "screen_greet_action", T_STR, "ignore", 0, 0, 0, CHK_ACTION, NULL },
	{ "screen_greet_ttl", T_TIME, "1d", 's', 0, 0, CHK_NONE, NULL },
	{ "screen_dnsbl_sites", T_LIST, "", 0, 0, 0, CHK_NONE, NULL },
	{ "screen_dnsbl_threshold", T_INT, "1", 0, 1, 0, CHK_NONE, NULL },
	{ "screen_dnsbl_allowlist_threshold", T_INT, "0", 0, LONG_MIN, 0,
	    CHK_NONE, NULL },
	{ "screen_dnsbl_action", T_STR, "ignore", 0, 0, 0, CHK_ACTION, NULL },
	{ "screen_dnsbl_reply_map", T_TABLE, "", 0, 0, 0, CHK_NONE, NULL },
	{ "screen_dnsbl_timeout", T_TIME, "10s", 's', 1, 0, CHK_NONE, NULL },
	{ "screen_dnsbl_min_ttl", T_TIME, "60s", 's', 0, 0, CHK_NONE, NULL },
	{ "screen_dnsbl_max_ttl", T_TIME,
	    "${screen_dnsbl_ttl?{$screen_dnsbl_ttl}:{1}}h", 'h', 0, 0,
	    CHK_NONE, NULL },
	{ "screen_dnsbl_ttl", T_TIME, "", 's', 0, PARAM_EMPTY_OK, CHK_NONE,
	    NULL },
	{ "screen_cache_map", T_TABLE, "lmdb:$data_directory/screen_cache", 0,
	    0, 0, CHK_NONE, "lmdb|btree|hash|redis" },
	{ "screen_cache_cleanup_interval", T_TIME, "12h", 'h', 0, 0,
	    CHK_NONE, NULL },
	/* LMDB map size in bytes (the file grows up to it; doubled when full). */
	{ "lmdb_map_size", T_INT, "268435456", 0, 1048576, 0, CHK_NONE, NULL },
	{ "screen_cache_retention_time", T_TIME, "7d", 'd', 0, 0, CHK_NONE,
	    NULL },
	{ "screen_pre_queue_limit", T_INT, "0", 0, 0, 0, CHK_NONE, NULL },
	{ "screen_post_queue_limit", T_INT, "$backend_process_limit", 0, 1, 0,
	    CHK_NONE, NULL },
	{ "screen_post_queue_timeout", T_TIME, "100s", 's', 1, 0, CHK_NONE,
	    NULL },
	{ "screen_client_connection_count_limit", T_INT,
	    "$smtpd_client_connection_count_limit", 0, 0, 0,
	    CHK_NONE, NULL },
	{ "screen_pipelining_enable", T_BOOL, "no", 0, 0, 0, CHK_NONE, NULL },
	{ "screen_pipelining_action", T_STR, "enforce", 0, 0, 0, CHK_ACTION,
	    NULL },
	{ "screen_pipelining_ttl", T_TIME, "30d", 's', 0, 0, CHK_NONE, NULL },
	{ "screen_non_smtp_command_enable", T_BOOL, "no", 0, 0, 0, CHK_NONE,
	    NULL },
	{ "screen_non_smtp_command_action", T_STR, "drop", 0, 0, 0,
	    CHK_ACTION, NULL },
	{ "screen_non_smtp_command_ttl", T_TIME, "30d", 's', 0, 0, CHK_NONE,
	    NULL },
	{ "screen_bare_newline_enable", T_BOOL, "no", 0, 0, 0, CHK_NONE,
	    NULL },
	{ "screen_bare_newline_action", T_STR, "ignore", 0, 0, 0, CHK_ACTION,
	    NULL },
	{ "screen_bare_newline_ttl", T_TIME, "30d", 's', 0, 0, CHK_NONE,
	    NULL },
	{ "screen_command_count_limit", T_INT, "20", 0, 1, 0, CHK_NONE,
	    NULL },
	{ "screen_command_time_limit", T_TIME, STRESS("10", "300") "s", 's',
	    1, 0, CHK_NONE, NULL },
	{ "screen_watchdog_timeout", T_TIME, "10s", 's', 1, 0, CHK_NONE,
	    NULL },
	{ "screen_upstream_proxy_protocol", T_STR, "", 0, 0, PARAM_EMPTY_OK,
	    CHK_ENUM, "haproxy" },
	{ "screen_upstream_proxy_timeout", T_TIME, "5s", 's', 1, 0, CHK_NONE,
	    NULL },
	{ "screen_allowlist_interfaces", T_LIST, "static:all", 0, 0, 0,
	    CHK_NONE, NULL },
	{ "screen_helo_required", T_BOOL, "no", 0, 0, 0, CHK_NONE, NULL },
	{ "screen_disable_vrfy_command", T_BOOL, "no", 0, 0, 0, CHK_NONE,
	    NULL },
	{ "screen_forbidden_commands", T_LIST, "CONNECT GET POST", 0, 0, 0,
	    CHK_NONE, NULL },

	/* The resolver and the DNSBL replies. */
	{ "dns_servers", T_LIST, "", 0, 0, 0, CHK_DNS_SERVERS, NULL },
	{ "rbl_reply_maps", T_TABLE, "", 0, 0, 0, CHK_NONE, NULL },
	{ "default_rbl_reply", T_STR,
	    "$rbl_code Service unavailable; $rbl_class [$rbl_what] blocked using $rbl_domain${rbl_reason?; $rbl_reason}",
	    0, 0, PARAM_RAW, CHK_NONE, NULL },
	{ "maps_rbl_reject_code", T_INT, "554", 0, 0, 0, CHK_NONE, NULL },

	/* The workers: smtpd's names and stress-dependent defaults. */
	{ "smtpd_timeout", T_TIME, STRESS("10", "300") "s", 's', 1, 0,
	    CHK_NONE, NULL },
	{ "smtpd_hard_error_limit", T_INT, STRESS("1", "20"), 0, 1, 0,
	    CHK_NONE, NULL },
	{ "smtpd_soft_error_limit", T_INT, "10", 0, 1, 0, CHK_NONE, NULL },
	{ "smtpd_error_sleep_time", T_TIME, "1s", 's', 0, 0, CHK_NONE, NULL },
	{ "smtpd_junk_command_limit", T_INT, STRESS("1", "100"), 0, 1, 0,
	    CHK_NONE, NULL },
	{ "smtpd_per_record_deadline", T_BOOL, STRESS("yes", "no"), 0, 0, 0,
	    CHK_NONE, NULL },
	{ "smtpd_starttls_timeout", T_TIME, STRESS("10", "300") "s", 's', 1,
	    0, CHK_NONE, NULL },
	{ "smtpd_tls_cert_file", T_STR, "", 0, 0, 0, CHK_NONE, NULL },
	{ "smtpd_tls_key_file", T_STR, "$smtpd_tls_cert_file", 0, 0, 0,
	    CHK_NONE, NULL },
	{ "smtpd_tls_security_level", T_STR, "", 0, 0, PARAM_EMPTY_OK,
	    CHK_ENUM, "none|may|encrypt" },
	{ "smtpd_client_connection_count_limit", T_INT, "50", 0, 0, 0,
	    CHK_NONE, NULL },
};

#define NPARAMS	(sizeof(params) / sizeof(params[0]))

const struct conf_param *
params_find(const char *name)
{
	size_t i;

	for (i = 0; i < NPARAMS; i++)
		if (strcmp(params[i].name, name) == 0)
			return &params[i];
	return NULL;
}

const struct conf_param *
params_all(size_t *count)
{
	*count = NPARAMS;
	return params;
}

/* The machine's name, and its domain part, computed once. */
static char hostname[256];
static char domainname[256];

static void
compute_names(void)
{
	const char *dot;

	if (hostname[0] != '\0')
		return;
	if (gethostname(hostname, sizeof(hostname) - 1) != 0 ||
	    hostname[0] == '\0')
		snprintf(hostname, sizeof(hostname), "localhost");
	hostname[sizeof(hostname) - 1] = '\0';
	/* Postfix: $myhostname minus its first label, else localdomain. */
	if ((dot = strchr(hostname, '.')) != NULL && dot[1] != '\0')
		snprintf(domainname, sizeof(domainname), "%s", dot + 1);
	else
		snprintf(domainname, sizeof(domainname), "localdomain");
}

const char *
params_default(const struct conf_param *p)
{
	if (p->def != NULL)
		return p->def;
	compute_names();
	if (strcmp(p->name, "myhostname") == 0)
		return hostname;
	if (strcmp(p->name, "mydomain") == 0)
		return domainname;
	return "";
}
