"""Run doorman's integration tests: every test_* function of every
test_*.py module here (or those named on the command line), each under
a time limit, and print one line per test and a summary."""
import importlib
import os
import signal
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
TEST_LIMIT = 120  # seconds per test


class Timeout(Exception):
    pass


def on_alarm(signum, frame):
    raise Timeout("test exceeded %ds" % TEST_LIMIT)


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    wanted = argv[1:]
    modules = sorted(f[:-3] for f in os.listdir(here)
                     if f.startswith("test_") and f.endswith(".py"))
    signal.signal(signal.SIGALRM, on_alarm)
    passed, failed = 0, []
    for name in modules:
        mod = importlib.import_module(name)
        tests = [(n, getattr(mod, n)) for n in dir(mod) if n.startswith("test_")]
        tests.sort(key=lambda t: t[1].__code__.co_firstlineno)
        setup = getattr(mod, "setup_module", None)
        teardown = getattr(mod, "teardown_module", None)
        selected = [(n, f) for n, f in tests
                    if not wanted or n in wanted or name in wanted]
        if not selected:
            continue
        if setup:
            setup()
        try:
            for tname, fn in selected:
                t0 = time.monotonic()
                signal.alarm(TEST_LIMIT)
                try:
                    fn()
                    passed += 1
                    print("ok   %s.%s (%.1fs)" % (name, tname, time.monotonic() - t0), flush=True)
                except Exception:
                    failed.append("%s.%s" % (name, tname))
                    print("FAIL %s.%s (%.1fs)" % (name, tname, time.monotonic() - t0), flush=True)
                    traceback.print_exc()
                finally:
                    signal.alarm(0)
        finally:
            if teardown:
                teardown()
    print("passed: %d/%d (failed: %d)" % (passed, passed + len(failed), len(failed)))
    for f in failed:
        print("  failed: %s" % f)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
