/*
 * doorman-smtpd - the worker: takes handed-off clients from the screen
 * over a SOCK_SEQPACKET socketpair and relays each to the upstream MTA.
 *
 *	doorman-smtpd [-c CONFIG_DIR] [-o name=value]... [-s FD]
 *
 * -c	config directory (default /etc/doorman), file doorman.cf in it;
 * -o	overrides, applied in order after the file (the screen always
 *	passes "-o stress=" or "-o stress=yes", as Postfix's master does);
 * -s	the number of the inherited socketpair end (default 3).
 *
 * Exit status: 0 after EOF from the screen, backend_max_idle or
 * backend_max_use; 1 on a configuration or socket error; 2 on usage.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/addr.h"
#include "conf/conf.h"
#include "conf/log.h"
#include "backend/session.h"
#include "backend/template.h"
#include "backend/worker.h"

#define DEF_CONFIG_DIR	"/etc/doorman"

static void
usage(void)
{
	fprintf(stderr, "usage: doorman-smtpd [-c config_dir] [-o name=value]... [-s fd]\n");
	exit(2);
}

static void
conf_fail(const struct conf_err *e)
{
	char	buf[1024];

	msg_fatal("%s", conf_err_format(e, buf, sizeof(buf)));
}

static enum proxy_mode
proxy_mode(const char *v)
{
	if (*v == 0)
		return (PROXY_NONE);
	if (strcmp(v, "haproxy") == 0)
		return (PROXY_HAPROXY);
	if (strcmp(v, "haproxy-v2") == 0)
		return (PROXY_HAPROXY_V2);
	if (strcmp(v, "xclient") == 0)
		return (PROXY_XCLIENT);
	msg_fatal("backend_proxy_protocol: unknown value \"%s\" "
	    "(haproxy, haproxy-v2, xclient or empty)", v);
}

int
main(int argc, char **argv)
{
	static struct smtpd_params p;
	struct worker_limits lim;
	struct conf_err err;
	struct conf *c;
	const char *dir = DEF_CONFIG_DIR, *why;
	char	path[PATH_MAX], tag[256], *end;
	char	**over = NULL;
	int	nover = 0, sock = 3, ch, i, type, rc;
	socklen_t tlen = sizeof(type);
	long	v;

	if ((over = calloc((size_t)argc + 1, sizeof(*over))) == NULL)
		msg_fatal("out of memory");
	while ((ch = getopt(argc, argv, "c:o:s:")) != -1) {
		switch (ch) {
		case 'c':
			dir = optarg;
			break;
		case 'o':
			if (strchr(optarg, '=') == NULL)
				usage();	/* as doorman -o */
			over[nover++] = optarg;
			break;
		case 's':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || v < 0 || v > INT_MAX)
				usage();
			sock = (int)v;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	/*
	 * The socketpair end: it must be there, and a SEQPACKET socket.
	 * Without it we were run by hand: a usage error, said on stderr.
	 */
	if (fcntl(sock, F_GETFD) < 0 ||
	    getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 ||
	    type != SOCK_SEQPACKET) {
		fprintf(stderr, "doorman-smtpd: fd %d is not the screen's SOCK_SEQPACKET "
		    "socket (doorman-smtpd is started by doorman)\n", sock);
		usage();
	}
	(void)fcntl(sock, F_SETFD, FD_CLOEXEC);

	signal(SIGPIPE, SIG_IGN);
	if ((c = conf_create()) == NULL)
		msg_fatal("out of memory");
	if (snprintf(path, sizeof(path), "%s/doorman.cf", dir) >= (int)sizeof(path))
		msg_fatal("config directory name too long: %s", dir);
	if (conf_read_file(c, path, &err) < 0)
		conf_fail(&err);
	conf_set(c, "config_directory", dir);
	for (i = 0; i < nover; i++)
		if (conf_override(c, over[i], &err) < 0)
			conf_fail(&err);
	if (conf_validate(c, &err) < 0)
		conf_fail(&err);

	snprintf(tag, sizeof(tag), "%s/smtpd", conf_str(c, "syslog_name"));
	if (log_open(tag, conf_str(c, "maillog_file")) < 0)
		msg_fatal("cannot open log: %s", strerror(errno));
	log_buffer(1);		/* written whenever the worker waits (netio.c) */

	p.myhostname = conf_str(c, "myhostname");
	p.banner = conf_str(c, "smtpd_banner");
	p.upstream_text = conf_str(c, "backend_upstream");
	if (addr_parse_endpoint(p.upstream_text, &p.upstream, &why) < 0)
		msg_fatal("backend_upstream = %s: %s", p.upstream_text, why);
	p.proxy = proxy_mode(conf_str(c, "backend_proxy_protocol"));
	p.connect_timeout_ms = conf_time(c, "backend_connect_timeout") * 1000;
	p.upstream_timeout_ms = conf_time(c, "backend_upstream_timeout") * 1000;
	p.local_greeting = strcmp(conf_str(c, "backend_upstream_greeting"), "local") == 0;
	/* Postfix's smtp client waits 600s for the answer to "."; so do we, at least. */
	p.data_done_timeout_ms = p.upstream_timeout_ms > 600000 ?
	    p.upstream_timeout_ms : 600000;
	p.timeout_ms = conf_time(c, "smtpd_timeout") * 1000;
	p.per_record = conf_bool(c, "smtpd_per_record_deadline");
	p.hard_error_limit = conf_int(c, "smtpd_hard_error_limit");
	p.soft_error_limit = conf_int(c, "smtpd_soft_error_limit");
	p.error_sleep_ms = conf_time(c, "smtpd_error_sleep_time") * 1000;
	p.junk_limit = conf_int(c, "smtpd_junk_command_limit");
	v = conf_int(c, "line_length_limit");
	p.line_limit = v < 80 ? 80 : (size_t)v;
	lim.max_use = conf_int(c, "backend_max_use");
	lim.max_idle = conf_time(c, "backend_max_idle");
	if (lim.max_use < 1)
		lim.max_use = 1;
	if (lim.max_idle < 1)
		lim.max_idle = 1;

	/*
	 * Started as a template by the spawner: this returns in each worker,
	 * which opens the log anew, as an exec'd worker would (a log file
	 * rotated since the template opened it).
	 */
	if (getenv(TEMPLATE_ENV) != NULL) {
		template_run(sock, path, argv[0]);
		if (log_open(tag, conf_str(c, "maillog_file")) < 0)
			msg_fatal("cannot open log: %s", strerror(errno));
	}
	/* The conf stays alive while p points into it. */
	rc = worker_run(sock, &p, &lim);
	conf_free(c);
	free(over);
	log_close();
	return (rc);
}
