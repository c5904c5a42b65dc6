/*
 * test_screen_timerlist - one ev_timer for many equal timeouts: entries
 * fire in order, removed ones never fire, re-added ones move to the tail.
 */
#include <criterion/criterion.h>
#include <ev.h>

#include "screen/timerlist.h"

static int fired[8];
static int nfired;
static struct timer_entry entries[8];

static void
record(struct timer_entry *te)
{
	fired[nfired++] = (int)(te - entries);
}

static void
stop_loop(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)t;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

Test(timerlist, fires_in_order_and_skips_removed)
{
	struct ev_loop *loop = ev_loop_new(0);
	struct timerlist tl;
	ev_timer guard;
	int i;

	nfired = 0;
	timerlist_init(&tl, loop, 0.05);
	for (i = 0; i < 5; i++)
		timerlist_add(&tl, &entries[i], record);
	timerlist_remove(&entries[2]);
	timerlist_add(&tl, &entries[0], record);	/* re-armed: goes last */
	cr_assert_eq(tl.count, 4, "got %zu entries, want 4", tl.count);
	ev_timer_init(&guard, stop_loop, 0.3, 0);
	ev_timer_start(loop, &guard);
	ev_run(loop, 0);
	cr_assert_eq(nfired, 4, "got %d fired, want 4", nfired);
	cr_assert_eq(fired[0], 1);
	cr_assert_eq(fired[1], 3);
	cr_assert_eq(fired[2], 4);
	cr_assert_eq(fired[3], 0);
	cr_assert_eq(tl.count, 0);
	cr_assert_null(entries[2].list, "a removed entry stays unarmed");
	ev_loop_destroy(loop);
}

Test(timerlist, remove_everything_stops_the_timer)
{
	struct ev_loop *loop = ev_loop_new(0);
	struct timerlist tl;

	timerlist_init(&tl, loop, 10);
	timerlist_add(&tl, &entries[0], record);
	timerlist_add(&tl, &entries[1], record);
	cr_assert(ev_is_active(&tl.timer));
	timerlist_stop(&tl);
	cr_assert_not(ev_is_active(&tl.timer));
	cr_assert_eq(tl.count, 0);
	cr_assert_null(tl.head);
	ev_loop_destroy(loop);
}
