/*
 * config_cmd - the configuration sub-commands.
 *
 * check: everything the daemon would refuse at start-up is refused here
 * too, with file, line and reason: values, actions, tables, addresses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <ev.h>

#include "cache/cache.h"
#include "conf/addr.h"
#include "conf/log.h"
#include "rbl/rbl.h"
#include "screen/access.h"
#include "screen/config_cmd.h"
#include "screen/config_load.h"
#include "screen/control.h"
#include "screen/screen.h"

static int
config_check_listen(struct conf *c, struct conf_err *err)
{
	char **v = conf_list(c, "listen");
	struct endpoint ep;
	const char *why;
	size_t i;

	for (i = 0; v[i] != NULL; i++) {
		if (addr_parse_endpoint(v[i], &ep, &why) == 0 && ep.sa.ss_family != AF_UNIX)
			continue;
		const char *file;

		conf_origin(c, "listen", &file, &err->line);
		snprintf(err->file, sizeof(err->file), "%s", file);
		snprintf(err->reason, sizeof(err->reason), "bad listen address \"%.200s\"", v[i]);
		return (-1);
	}
	if (addr_parse_endpoint(conf_str(c, "backend_upstream"), &ep, &why) != 0) {
		const char *file;

		conf_origin(c, "backend_upstream", &file, &err->line);
		snprintf(err->file, sizeof(err->file), "%s", file);
		snprintf(err->reason, sizeof(err->reason), "bad backend_upstream \"%.200s\": %s",
		    conf_str(c, "backend_upstream"), why);
		return (-1);
	}
	return (0);
}

/*
 * Open (and close) the cache, as the daemon will: a bad path or address
 * shows now.  An LMDB file in a data_directory that does not exist yet
 * is left to the daemon, which creates the directory.
 */
static int
config_check_cache(struct conf *c, struct conf_err *err)
{
	const char *spec = conf_str(c, "screen_cache_map");
	struct ev_loop *loop;
	struct cache *cache;
	struct stat st;

	if (strncmp(spec, "redis:", 6) != 0 &&
	    stat(conf_str(c, "data_directory"), &st) != 0)
		return (0);
	if ((loop = ev_loop_new(0)) == NULL)
		return (0);
	cache = cache_open(loop, c, err);
	cache_close(cache);
	ev_loop_destroy(loop);
	return (cache == NULL && err->reason[0] != '\0' ? -1 : 0);
}

/*
 * The DNSBL sites, weights, filters and servers as the daemon parses
 * them, for both stress flavours: the same errors, file and line as
 * `run` would stop on.  No query is sent.
 */
static int
config_check_rbl(struct conf *c, struct conf *cs, struct conf_err *err)
{
	struct ev_loop *loop;
	struct rbl *rbl;
	int	rc;

	if ((loop = ev_loop_new(0)) == NULL)
		return (0);
	rbl = rbl_create(loop, c, err);
	rc = rbl != NULL && rbl_prepare_conf(rbl, cs, err) == 0 ? 0 : -1;
	rbl_free(rbl);
	ev_loop_destroy(loop);
	return (rc);
}

int
config_cmd_check(void)
{
	struct conf *c, *cs = NULL;
	struct access_list *al = NULL;
	struct screen_params p;
	struct conf_err err;
	int rc = 1;

	memset(&err, 0, sizeof(err));
	log_also_stderr(1);
	if ((c = config_load(screen.config_dir, screen.overrides, "", 0, &err)) == NULL)
		goto out;
	if ((cs = config_load(screen.config_dir, screen.overrides, "yes", 1, &err)) == NULL ||
	    config_screen_params(&p, c, &err) != 0 ||
	    config_open_tables(c, &err) != 0 || config_open_tables(cs, &err) != 0 ||
	    (al = access_list_create(c, &err)) == NULL ||
	    config_check_listen(c, &err) != 0 || config_check_cache(c, &err) != 0 ||
	    config_check_rbl(c, cs, &err) != 0)
		goto out;
	rc = 0;
	/* Redundant lists and zones that do not answer: warnings only. */
	(void)rbl_check_sites(c, 1, stderr);
out:
	if (rc != 0)
		config_print_error(&err);
	access_list_free(al);
	if (cs != NULL)
		conf_free(cs);
	if (c != NULL)
		conf_free(c);
	return (rc);
}

static int
config_set_in_file(struct conf *c, const char *name)
{
	const char *file;
	int line;

	conf_origin(c, name, &file, &line);
	return (line > 0);
}

/* -o stress=yes decides what `config -x` shows. */
static const char *
config_stress_override(char **overrides)
{
	const char *v = "";
	size_t i;

	for (i = 0; overrides != NULL && overrides[i] != NULL; i++)
		if (strncmp(overrides[i], "stress=", 7) == 0)
			v = overrides[i] + 7;
	return (v);
}

/* "name = value" as postconf prints it: "name =" when the value is empty. */
static void
config_print_one(struct conf *c, const char *name, int defaults, int expand)
{
	const char *v = defaults ? conf_default(name) : conf_raw(c, name);

	if (v == NULL)
		return;
	if (expand && !defaults)
		v = conf_str(c, name);
	/* Empty means the folder of doorman's executable (DESIGN §3): say which. */
	if (*v == '\0' && strcmp(name, "daemon_directory") == 0 &&
	    (defaults || !conf_is_set(c, name)))
		v = screen.exe_dir;
	printf("%s =%s%s\n", name, *v ? " " : "", v);
}

int
config_cmd_print(int argc, char **argv)
{
	int only_set = 0, defaults = 0, expand = 0, ch;
	struct conf_err err;
	const char **names;
	struct conf *c;
	size_t n, i;

	optind = 1;
	while ((ch = getopt(argc, argv, "ndx")) != -1) {
		switch (ch) {
		case 'n':
			only_set = 1;
			break;
		case 'd':
			defaults = 1;
			break;
		case 'x':
			expand = 1;
			break;
		default:
			fprintf(stderr, "usage: doorman config [-n|-d|-x] [name...]\n");
			return (2);
		}
	}
	memset(&err, 0, sizeof(err));
	if ((c = config_load(screen.config_dir, screen.overrides,
	    config_stress_override(screen.overrides), 1, &err)) == NULL) {
		config_print_error(&err);
		return (1);
	}
	if (optind < argc) {
		for (i = (size_t)optind; i < (size_t)argc; i++) {
			char cname[256];
			const char *name = conf_canonical_name(argv[i], cname, sizeof(cname));

			/* As postconf: a warning, and the other names still print. */
			if (conf_default(name) == NULL && conf_raw(c, name) == NULL) {
				fprintf(stderr, "doorman: warning: %s: unknown parameter\n", argv[i]);
				continue;
			}
			if (only_set && !conf_is_set(c, name))
				continue;
			config_print_one(c, name, defaults, expand);
		}
	} else {
		n = conf_names(c, &names);
		for (i = 0; i < n; i++) {
			if (only_set && !conf_is_set(c, names[i]))
				continue;
			/* -c sets it, as postconf's -c does; -n shows the file. */
			if (only_set && strcmp(names[i], "config_directory") == 0 &&
			    !config_set_in_file(c, names[i]))
				continue;
			config_print_one(c, names[i], defaults, expand);
		}
	}
	conf_free(c);
	return (0);
}

int
config_cmd_query(const char *ip)
{
	static const char *verdicts[] = { "dunno (screened)", "permit (ALLOWLISTED: no tests)",
	    "reject (DENYLISTED)" };
	struct sockaddr_storage ss;
	struct access_list *al;
	struct conf_err err;
	socklen_t len;
	struct conf *c;
	int rc;

	memset(&err, 0, sizeof(err));
	if (addr_parse_ip(ip, &ss, &len) != 0) {
		fprintf(stderr, "doorman: fatal: not an IP address: %s\n", ip);
		return (2);
	}
	if ((c = config_load(screen.config_dir, screen.overrides, "", 1, &err)) == NULL ||
	    (al = access_list_create(c, &err)) == NULL) {
		config_print_error(&err);
		if (c != NULL)
			conf_free(c);
		return (1);
	}
	printf("client %s\n", ip);
	printf("access list (%s): %s\n", conf_str(c, "screen_access_list"),
	    verdicts[access_list_check(al, (struct sockaddr *)&ss)]);
	fflush(stdout);
	access_list_free(al);
	rc = rbl_query_command(c, ip, stdout);
	conf_free(c);
	return (rc);
}

int
config_cmd_status(void)
{
	struct conf_err err;
	struct conf *c;
	int rc;

	memset(&err, 0, sizeof(err));
	if ((c = config_load(screen.config_dir, screen.overrides, "", 1, &err)) == NULL) {
		config_print_error(&err);
		return (1);
	}
	rc = control_status_command(c);
	conf_free(c);
	return (rc);
}
