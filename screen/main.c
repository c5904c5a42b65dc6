/*
 * doorman - the screen's command line (DESIGN §3).
 *
 *   doorman [-c CONFIG_DIR] [-o name=value]... [COMMAND [ARGS]]
 *
 * run (the default), check, config [-n|-d|-x] [name...], query IP,
 * status.  Exit codes:
 * 0 ok, 1 configuration error, 2 usage, 75 daemon unreachable.
 */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/log.h"
#include "screen/access.h"
#include "screen/config_cmd.h"
#include "screen/config_load.h"
#include "screen/daemon.h"
#include "screen/screen.h"

#define DEFAULT_CONFIG_DIR	"/etc/doorman"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: doorman [-c config_dir] [-o name=value]... [command]\n"
	    "commands:\n"
	    "  run                      the daemon, in the foreground (default)\n"
	    "  check                    validate the configuration and tables\n"
	    "  config [-n|-d|-x] [name...]  print parameters as postconf does\n"
	    "  query IP                 dry-run one client through the access list and DNSBLs\n"
	    "  status                   ask the running daemon what it holds\n");
	exit(2);
}

/* The folder of our own executable: the default daemon_directory. */
static const char *
exe_directory(const char *argv0)
{
	static char buf[PATH_MAX];
	ssize_t n;

	n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		return (dirname(buf));
	}
	snprintf(buf, sizeof(buf), "%s", argv0);
	return (dirname(buf));
}

int
main(int argc, char **argv)
{
	static char *overrides[SCREEN_MAX_OVERRIDES + 1];
	int ch, noverrides = 0;
	const char *cmd;

	screen.config_dir = DEFAULT_CONFIG_DIR;
	while ((ch = getopt(argc, argv, "+c:o:h")) != -1) {
		switch (ch) {
		case 'c':
			screen.config_dir = optarg;
			break;
		case 'o':
			if (noverrides >= SCREEN_MAX_OVERRIDES || strchr(optarg, '=') == NULL)
				usage();
			overrides[noverrides++] = optarg;
			break;
		default:
			usage();
		}
	}
	screen.overrides = overrides;
	screen.exe_dir = exe_directory(argv[0]);
	argc -= optind;
	argv += optind;
	cmd = argc > 0 ? argv[0] : "run";

	if (strcmp(cmd, "run") == 0) {
		if (argc > 1)
			usage();
		return (daemon_run());
	}
	if (strcmp(cmd, "check") == 0) {
		if (argc > 1)
			usage();
		return (config_cmd_check());
	}
	if (strcmp(cmd, "config") == 0)
		return (config_cmd_print(argc, argv));
	if (strcmp(cmd, "status") == 0) {
		if (argc > 1)
			usage();
		return (config_cmd_status());
	}
	if (strcmp(cmd, "query") == 0) {
		if (argc != 2)
			usage();
		return (config_cmd_query(argv[1]));
	}
	usage();
	return (2);
}
