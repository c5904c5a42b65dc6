/*
 * config_load - doorman.cf plus -o overrides, validated, for the
 * daemon and for `check`, `config`, `query`.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cache/cache.h"
#include "conf/log.h"
#include "conf/table.h"
#include "screen/config_load.h"

struct conf *
config_load(const char *dir, char **overrides, const char *stress, int quiet,
    struct conf_err *err)
{
	struct conf *c = conf_create();
	char path[4096];
	size_t i;

	conf_set_quiet(c, quiet);
	if (strcmp(dir, conf_default("config_directory")) != 0)
		conf_set(c, "config_directory", dir);
	snprintf(path, sizeof(path), "%s/doorman.cf", dir);
	if (conf_read_file(c, path, err) != 0)
		goto fail;
	for (i = 0; overrides != NULL && overrides[i] != NULL; i++)
		if (conf_override(c, overrides[i], err) != 0)
			goto fail;
	/* The daemon decides stress; an empty one need not show in config -n. */
	if (*stress != '\0' || conf_is_set(c, "stress"))
		conf_set(c, "stress", stress);
	if (conf_validate(c, err) != 0)
		goto fail;
	return (c);
fail:
	conf_free(c);
	return (NULL);
}

/*
 * Open the lookup tables that the screen reads at verdict time, so that
 * a missing or broken file stops start-up rather than a client's session.
 */
int
config_open_tables(struct conf *c, struct conf_err *err)
{
	static const char *names[] = { "rbl_reply_maps", "screen_dnsbl_reply_map" };
	struct table *t;
	const char *spec;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		spec = conf_str(c, names[i]);
		if (*spec == '\0')
			continue;
		if ((t = table_open(spec, err)) == NULL) {
			conf_err_anchor(c, names[i], err);
			return (-1);
		}
		table_close(t);
	}
	return (0);
}

int
screen_action_parse(const char *text, enum screen_action *action)
{
	if (strcasecmp(text, "ignore") == 0 || strcasecmp(text, "continue") == 0)
		*action = ACTION_IGNORE;
	else if (strcasecmp(text, "enforce") == 0)
		*action = ACTION_ENFORCE;
	else if (strcasecmp(text, "drop") == 0)
		*action = ACTION_DROP;
	else
		return (-1);
	return (0);
}

/* conf_validate() has checked the word already. */
static enum screen_action
config_action(struct conf *c, const char *name)
{
	enum screen_action action = ACTION_IGNORE;

	(void)screen_action_parse(conf_str(c, name), &action);
	return (action);
}

int
config_screen_params(struct screen_params *p, struct conf *c, struct conf_err *err)
{
	p->myhostname = conf_str(c, "myhostname");
	p->smtpd_banner = conf_str(c, "smtpd_banner");
	p->greet_banner = conf_str(c, "screen_greet_banner");
	p->service_name = conf_str(c, "screen_service_name");
	p->respectful_logging = conf_bool(c, "respectful_logging");
	p->client_connection_count_limit = conf_int(c, "screen_client_connection_count_limit");
	p->pre_queue_limit = conf_int(c, "screen_pre_queue_limit");
	p->post_queue_limit = conf_int(c, "screen_post_queue_limit");
	p->post_queue_timeout = conf_time(c, "screen_post_queue_timeout");
	p->command_count_limit = conf_int(c, "screen_command_count_limit");
	p->line_length_limit = (size_t)conf_int(c, "line_length_limit");
	if (p->line_length_limit < 80)
		p->line_length_limit = 80;
	p->greet_action = config_action(c, "screen_greet_action");
	p->dnsbl_action = config_action(c, "screen_dnsbl_action");
	p->enabled_tests = cache_enabled_from_conf(c);
	p->greet_ttl = conf_time(c, "screen_greet_ttl");
	p->local_greeting = strcmp(conf_str(c, "backend_upstream_greeting"), "local") == 0;
	p->denylist_action = config_action(c, "screen_denylist_action");
	(void)err;
	return (0);
}

void
config_print_error(const struct conf_err *err)
{
	char buf[1024];

	fprintf(stderr, "doorman: fatal: %s\n", conf_err_format(err, buf, sizeof(buf)));
}
