/*
 * timerlist - many equal timeouts on one ev_timer (libev manual, "Be
 * smart about timeouts", strategy 4).
 *
 * Every entry of a list has the same interval, so appending keeps the
 * list sorted by deadline and only the head needs a libev timer.  A
 * held zombie costs two pointers and a timestamp, not an ev_timer.
 */
#ifndef DOORMAN_TIMERLIST_H
#define DOORMAN_TIMERLIST_H

#include <ev.h>

struct timer_entry {
	struct timer_entry *prev, *next;
	ev_tstamp deadline;
	void	(*fire)(struct timer_entry *);
	struct timerlist *list;		/* NULL when not armed */
};

struct timerlist {
	struct ev_loop *loop;
	ev_timer timer;
	ev_tstamp interval;
	struct timer_entry *head, *tail;
	size_t	count;
};

void	timerlist_init(struct timerlist *, struct ev_loop *, ev_tstamp interval);
/* Arm (or re-arm at the tail) with deadline now + interval. */
void	timerlist_add(struct timerlist *, struct timer_entry *,
	    void (*fire)(struct timer_entry *));
void	timerlist_remove(struct timer_entry *);
void	timerlist_stop(struct timerlist *);

#endif
