/*
 * config_load - doorman.cf plus -o overrides, validated, for the
 * daemon and for `check`, `config`, `query`.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "conf/log.h"
#include "screen/config_load.h"

struct conf *
config_load(const char *dir, char **overrides, const char *stress, int quiet,
    struct conf_err *err)
{
	struct conf *c = conf_create();
	char path[4096];
	size_t i;

	(void)quiet;
	conf_set(c, "config_directory", dir);
	snprintf(path, sizeof(path), "%s/doorman.cf", dir);
	if (conf_read_file(c, path, err) != 0)
		goto fail;
	for (i = 0; overrides != NULL && overrides[i] != NULL; i++)
		if (conf_override(c, overrides[i], err) != 0)
			goto fail;
	conf_set(c, "stress", stress);
	if (conf_validate(c, err) != 0)
		goto fail;
	return (c);
fail:
	conf_free(c);
	return (NULL);
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

static int
config_action(struct conf *c, const char *name, enum screen_action *action,
    struct conf_err *err)
{
	const char *file;
	int line;

	if (screen_action_parse(conf_str(c, name), action) == 0)
		return (0);
	conf_origin(c, name, &file, &line);
	snprintf(err->file, sizeof(err->file), "%s", file);
	err->line = line;
	snprintf(err->reason, sizeof(err->reason),
	    "bad %s value \"%.200s\": expected ignore, enforce or drop", name,
	    conf_str(c, name));
	return (-1);
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
	if (config_action(c, "screen_greet_action", &p->greet_action, err) != 0 ||
	    config_action(c, "screen_denylist_action", &p->denylist_action, err) != 0)
		return (-1);
	return (0);
}

void
config_print_error(const struct conf_err *err)
{
	char buf[1024];

	fprintf(stderr, "doorman: fatal: %s\n", conf_err_format(err, buf, sizeof(buf)));
}
