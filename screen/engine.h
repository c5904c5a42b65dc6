/*
 * engine - the screen's dummy SMTP engine (postscreen's psc_smtpd).
 *
 * It talks to clients that may not be handed off: those that failed a
 * test under "enforce" (every RCPT and VRFY gets the failed test's
 * reply, and the session goes on until QUIT or a limit), and those that
 * must be refused after the "220-" teaser went out ("X21" mode: complete
 * the greeting, answer the first command but QUIT with a 421, hang up).
 */
#ifndef DOORMAN_ENGINE_H
#define DOORMAN_ENGINE_H

struct session;
struct engine;

enum engine_mode {
	ENGINE_ENFORCE,
	ENGINE_X21
};

/* reply: the 421 line for X21 mode; ignored for enforce. */
void	engine_start(struct session *, enum engine_mode, const char *reply);
void	engine_free(struct engine *);

#endif
