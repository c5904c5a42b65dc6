/*
 * template - a doorman-smtpd that has read and checked its config once
 * and forks workers from it, so that replacing a worker (every
 * backend_max_use sessions) costs a fork instead of an exec, the
 * dynamic loader, glibc's CPU probing and a config parse.
 *
 * The spawner (screen/spawner.c) starts a template with the argument
 * vector of a worker and TEMPLATE_ENV in its environment, its request
 * socket as fd 3.  Request: one message with the new worker's channel in
 * SCM_RIGHTS.  Reply: struct template_reply.  Workers are made with
 * clone(CLONE_PARENT), so they are the screen's children like any other.
 * A template whose doorman.cf has changed since it read it answers
 * ESTALE and exits: the spawner then starts the worker by exec (which
 * reads the new file) and a fresh template next time.
 */
#ifndef DOORMAN_TEMPLATE_H
#define DOORMAN_TEMPLATE_H

#include <stdint.h>

#define TEMPLATE_ENV	"DOORMAN_SMTPD_TEMPLATE"

struct template_reply {
	int32_t	pid;			/* the worker, or 0 */
	int32_t	err;			/* errno value when pid is 0 */
};

/*
 * Serve fork requests on fd sock until EOF (then exit).  Returns only in
 * a new worker, whose channel is then on fd sock.  config_file is the
 * file the config was read from; argv0 our argv[0], which reads
 * "doorman-templ" in ps while we are the template (so that nobody takes
 * us for a worker: pgrep, kill) and "doorman-smtpd" again in a worker.
 */
void	template_run(int sock, const char *config_file, char *argv0);

#endif
