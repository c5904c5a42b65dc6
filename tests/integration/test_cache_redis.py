"""A screening cache shared by two MX hosts through a real redis-server
(issue 7): pass on A, PASS OLD on B; Redis stopped mid-run: clients are
still screened (as misses) without a stall, a warning is logged, and the
cache works again when Redis is back."""
import time

from lib import (Doorman, RedisServer, SmtpSink, check, greet_and_quit, wait_until)

SINK_PORT, REDIS_PORT = 24901, 24902


def test_two_instances_share_redis():
    sink = SmtpSink(SINK_PORT)
    redis = RedisServer(REDIS_PORT)
    conf = "screen_cache_map = redis:127.0.0.1:%d\n" % REDIS_PORT
    a = Doorman(24900, "127.0.0.1:%d" % SINK_PORT, conf, greet_wait="2s").start()
    b = Doorman(24903, "127.0.0.1:%d" % SINK_PORT, conf, greet_wait="2s").start()
    try:
        r, waited = greet_and_quit(24900, "127.0.40.1")
        check(waited >= 1.9, "first visit on A waits: %.2f" % waited)
        a.wait_log(r"PASS NEW \[127\.0\.40\.1\]")
        time.sleep(0.3)
        r, waited = greet_and_quit(24903, "127.0.40.1")
        check(waited < 0.5 and len(r) == 1, "B knows the client: %.2fs %r" % (waited, r))
        b.wait_log(r"PASS OLD \[127\.0\.40\.1\]")

        # Redis goes away: a new client is screened as a miss, with no stall.
        a.mark()
        redis.stop(remove=False)
        r, waited = greet_and_quit(24900, "127.0.40.2")
        check(r[-1].startswith("220 ") and waited < 3.5,
              "screened without Redis, no stall: %.2fs" % waited)
        a.wait_log(r"PASS NEW \[127\.0\.40\.2\]")
        a.wait_log(r"warning: cache redis:127\.0\.0\.1:%d: " % REDIS_PORT, timeout=5)
        # Redis is back: passes are shared again.
        redis.start()
        time.sleep(2.5)
        greet_and_quit(24900, "127.0.40.3")
        a.wait_log(r"PASS NEW \[127\.0\.40\.3\]")
        b.mark()

        def old_on_b():
            r, waited = greet_and_quit(24903, "127.0.40.3")
            return waited < 0.5
        wait_until(old_on_b, 20, "PASS OLD on B after Redis came back")
        b.wait_log(r"PASS OLD \[127\.0\.40\.3\]")
    finally:
        a.stop()
        b.stop()
        redis.stop()
        sink.stop()
