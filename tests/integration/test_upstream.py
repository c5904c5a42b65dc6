"""The real client address reaches a real Postfix (DESIGN §10): PROXY v1,
PROXY v2 and XCLIENT through doorman's workers, checked in the log of a
private Postfix instance; and XCLIENT refused means 421, never a relay
under the worker's own address."""
import tempfile

from lib import (Doorman, check, command, connect, read_reply, send_mail)
from postfix_instance import PostfixInstance


def through(mode, proto, port, mta_port, src):
    mta = PostfixInstance(tempfile.mkdtemp(prefix="doorman-mta-"), mta_port, mode,
                          stop_at_exit=True)
    mta.start()
    d = Doorman(port, "127.0.0.1:%d" % mta_port,
                "backend_proxy_protocol = %s\n" % proto, greet_wait="1s").start()
    try:
        code, msg = send_mail(port, src, rcpt="user@example.test")
        return mta, d, code, msg
    except Exception:
        d.stop()
        mta.remove()
        raise


def check_client(mode, proto, port, mta_port, src):
    mta, d, code, msg = through(mode, proto, port, mta_port, src)
    try:
        check(code == 250, "%s: delivered: %d %r" % (proto, code, msg))
        mta.wait_log(r"client=unknown\[%s\]" % src.replace(".", r"\."), timeout=10)
    finally:
        d.stop()
        mta.remove()


def test_proxy_v1_real_postfix():
    check_client("haproxy", "haproxy", 24800, 24801, "127.0.16.1")


def test_proxy_v2_real_postfix():
    check_client("haproxy", "haproxy-v2", 24802, 24803, "127.0.16.2")


def test_xclient_real_postfix():
    check_client("xclient", "xclient", 24804, 24805, "127.0.16.3")


def test_xclient_not_offered_refuses():
    mta = PostfixInstance(tempfile.mkdtemp(prefix="doorman-mta-"), 24807, "plain",
                          stop_at_exit=True)
    mta.start()
    d = Doorman(24806, "127.0.0.1:24807", "backend_proxy_protocol = xclient\n",
                greet_wait="1s").start()
    try:
        s = connect(24806, "127.0.16.4")
        r = read_reply(s)
        check(r[0].startswith("220-") and r[-1].startswith("220 "), "greeting: %r" % r)
        r = command(s, "EHLO c.test")
        check(r == ["421 4.3.2 Service currently unavailable"], "421: %r" % r)
        d.wait_log(r"warning: upstream 127\.0\.0\.1:24807 does not accept XCLIENT ADDR "
                   r"\(check smtpd_authorized_xclient_hosts\)")
    finally:
        d.stop()
        mta.remove()


def test_proxy_header_to_a_plain_listener_is_caught():
    """doorman sends PROXY, the MTA does not expect it: its error reply to
    the header must not be relayed as the answer to the client's EHLO."""
    mta = PostfixInstance(tempfile.mkdtemp(prefix="doorman-mta-"), 24809, "plain",
                          stop_at_exit=True)
    mta.start()
    d = Doorman(24808, "127.0.0.1:24809", "backend_proxy_protocol = haproxy\n",
                greet_wait="1s").start()
    try:
        s = connect(24808, "127.0.16.5")
        read_reply(s)
        r = command(s, "EHLO c.test")
        check(r == ["421 4.3.2 Service currently unavailable"], "421, not a shifted reply: %r" % r)
        d.wait_log(r"warning: upstream 127\.0\.0\.1:24809 sent a reply nobody asked for "
                   r"before EHLO: check backend_proxy_protocol")
    finally:
        d.stop()
        mta.remove()
