/*
 * timerlist - one ev_timer for a list of equal timeouts.
 *
 * Invariant: entries are in deadline order, and the ev_timer, when
 * active, fires at the head's deadline.  Entries whose deadline passed
 * are unlinked before their callback runs, so a callback may re-add or
 * free its entry.
 */
#include <stddef.h>

#include "screen/timerlist.h"

static void
timerlist_rearm(struct timerlist *tl)
{
	ev_tstamp now;

	if (tl->head == NULL) {
		ev_timer_stop(tl->loop, &tl->timer);
		return;
	}
	now = ev_now(tl->loop);
	tl->timer.repeat = tl->head->deadline > now ?
	    tl->head->deadline - now : 0.0001;
	ev_timer_again(tl->loop, &tl->timer);
}

static void
timerlist_expire(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct timerlist *tl = w->data;
	struct timer_entry *te;
	ev_tstamp now;

	(void)revents;
	now = ev_now(loop);
	/* Small slack: libev may wake a hair early relative to ev_now. */
	while ((te = tl->head) != NULL && te->deadline <= now + 0.0005) {
		timerlist_remove(te);
		te->fire(te);
	}
	timerlist_rearm(tl);
}

void
timerlist_init(struct timerlist *tl, struct ev_loop *loop, ev_tstamp interval)
{
	tl->loop = loop;
	tl->interval = interval;
	tl->head = tl->tail = NULL;
	tl->count = 0;
	ev_init(&tl->timer, timerlist_expire);
	tl->timer.data = tl;
}

void
timerlist_add(struct timerlist *tl, struct timer_entry *te,
    void (*fire)(struct timer_entry *))
{
	int was_empty;

	if (te->list != NULL)
		timerlist_remove(te);
	te->fire = fire;
	te->deadline = ev_now(tl->loop) + tl->interval;
	te->list = tl;
	te->next = NULL;
	te->prev = tl->tail;
	if (tl->tail != NULL)
		tl->tail->next = te;
	else
		tl->head = te;
	tl->tail = te;
	was_empty = tl->count++ == 0;
	if (was_empty)
		timerlist_rearm(tl);
}

void
timerlist_remove(struct timer_entry *te)
{
	struct timerlist *tl = te->list;
	int was_head;

	if (tl == NULL)
		return;
	was_head = tl->head == te;
	if (te->prev != NULL)
		te->prev->next = te->next;
	else
		tl->head = te->next;
	if (te->next != NULL)
		te->next->prev = te->prev;
	else
		tl->tail = te->prev;
	te->prev = te->next = NULL;
	te->list = NULL;
	tl->count--;
	/* Inside timerlist_expire the re-arm happens once at the end. */
	if (was_head && !ev_is_pending(&tl->timer))
		timerlist_rearm(tl);
}

void
timerlist_stop(struct timerlist *tl)
{
	while (tl->head != NULL)
		timerlist_remove(tl->head);
	ev_timer_stop(tl->loop, &tl->timer);
}
