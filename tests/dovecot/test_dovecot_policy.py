"""No cleartext password on the wire for any client the policy forbids
it, including clients whose verdict waits on a host-name lookup.

Run by test-dovecot-policy.sh inside a private network and mount
namespace, with the harness of mwdovecot.  Clients: 127.0.0.2 (admitted
by address), 127.0.0.20 (good.contoso.test, admitted by a host rule),
127.0.0.30 (no PTR record: refused after the lookup), 127.0.0.1 (rip =
lip, which Dovecot calls "secured").
"""

import base64
import contextlib
import os
import poplib
import re
import subprocess
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mwdovecot as mw  # noqa: E402

POLICY = """\
dns {
  timeout  = 1s
  on_error = tempfail
}
defaults {
  cleartext = tls-only
}
service imap {
  allow net 127.0.0.1 127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5
  allow host .contoso.test
  deny  any
  mechanisms = PLAIN LOGIN SCRAM-SHA-256
  from net 127.0.0.3 {
    cleartext = always
  }
  from net 127.0.0.4 {
    tls_min_bits = 256
  }
  from net 127.0.0.5 {
    client_cert = required
  }
  from host .contoso.test {
    mechanisms = PLAIN LOGIN
  }
}
service pop3 {
  allow net 127.0.0.1 127.0.0.2 127.0.0.3
  allow host .contoso.test
  deny  any
  tls = required
  secured_is_tls = no
  from net 127.0.0.3 {
    tls = optional
    cleartext = always
  }
}
service submission {
  allow any
  cleartext = always
  from host .contoso.test {
    cleartext = tls-only
  }
}
"""

HOST_CLIENT = "127.0.0.20"
NO_PTR_CLIENT = "127.0.0.30"


def guarded(t, func, *args):
    try:
        func(*args)
    except Exception:
        t.ok(False, "%s ended early" % func.__name__,
             traceback.format_exc())


def write_policy(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)


class Capture:
    """tcpdump on lo for one port while the body runs; payload() gives
    every TCP payload byte seen."""

    def __init__(self, work, name, port):
        self.path = os.path.join(work, name + ".pcap")
        self.port = port

    def __enter__(self):
        self.proc = mw.tcpdump_start(self.path, self.port)
        return self

    def __exit__(self, *exc):
        mw.tcpdump_stop(self.proc)
        self.data = mw.capture_payload(self.path)
        return False


def secret_forms():
    """The password as each mechanism puts it on the wire: as it is (IMAP
    LOGIN, POP3 PASS), and base64 (SASL PLAIN's "\\0user\\0password" and
    SASL LOGIN's password alone)."""
    plain = ("\0%s\0%s" % (mw.USER, mw.PASSWORD)).encode()
    return [mw.PASSWORD.encode(), base64.b64encode(plain),
            base64.b64encode(mw.PASSWORD.encode())]


def secret_seen(cap):
    return any(form in cap.data for form in secret_forms())


def secret_absent(cap):
    return len(cap.data) > 0 and not secret_seen(cap)


def imap_follow_caps(source):
    """A client that does what the capabilities say: STARTTLS first when
    LOGINDISABLED is listed, then LOGIN.  Returns (caps, login result)."""
    c = mw.IMAP(source)
    try:
        caps = set(c.capability()[1][0].decode().upper().split())
        if "LOGINDISABLED" in caps:
            c.starttls(mw.client_context())
        try:
            typ, _ = c.login(mw.USER, mw.PASSWORD)
        except (c.error, c.abort) as e:
            typ = str(e)
        return caps, typ
    finally:
        with contextlib.suppress(Exception):
            c.logout()


def run_imap(t, dovecot, work):
    for source, desc in ((HOST_CLIENT, "host-rule client"),
                         (NO_PTR_CLIENT, "client without PTR"),
                         ("127.0.0.2", "address-admitted client of a "
                          "service with a 'from host' block")):
        caps = mw.imap_caps(source)
        t.ok("LOGINDISABLED" in caps and "AUTH=PLAIN" not in caps and
             "AUTH=LOGIN" not in caps and "STARTTLS" in caps,
             "IMAP %s: LOGINDISABLED and no AUTH=PLAIN/LOGIN before "
             "STARTTLS" % desc, sorted(caps))
        with Capture(work, "imap-" + source, mw.PORTS["imap"]) as cap:
            caps, typ = imap_follow_caps(source)
        want = "OK" if source != NO_PTR_CLIENT else "NO"
        t.ok(secret_absent(cap) and
             (typ == "OK") == (want == "OK"),
             "IMAP %s: the password never crosses the wire in clear "
             "(login %s, %d bytes captured)" % (desc, typ, len(cap.data)))

    # a client that ignores LOGINDISABLED is refused by Dovecot itself
    c = mw.IMAP(NO_PTR_CLIENT)
    try:
        c.login(mw.USER, mw.PASSWORD)
        refused = False
    except c.error as e:
        # 2.3 says "Plaintext", 2.4 "Cleartext"
        refused = "Plaintext authentication disallowed" in str(e) or \
            "Cleartext authentication disallowed" in str(e) or \
            "not allowed" in str(e) or "disabled" in str(e).lower()
    finally:
        with contextlib.suppress(Exception):
            c.logout()
    t.ok(refused, "IMAP client without PTR that sends LOGIN anyway is "
         "refused before the passdb")

    # after STARTTLS: the "from host" outcome forbids SCRAM-SHA-256, so it
    # is not offered to a client whose name is pending
    caps = mw.imap_caps(HOST_CLIENT, starttls=True)
    t.ok("AUTH=PLAIN" in caps and "AUTH=SCRAM-SHA-256" not in caps,
         "IMAP host-rule client after STARTTLS: PLAIN offered, "
         "SCRAM-SHA-256 (refused by an outcome) not", sorted(caps))
    caps = mw.imap_caps("127.0.0.3")
    t.ok("LOGINDISABLED" not in caps and "AUTH=PLAIN" in caps,
         "IMAP 127.0.0.3 (from net, cleartext = always): PLAIN offered "
         "in the clear, as the policy allows", sorted(caps))
    ok, text = mw.imap_login(HOST_CLIENT, "starttls", "SCRAM-SHA-256")
    t.ok(not ok, "IMAP host-rule client: SCRAM-SHA-256 is refused", text)

    # the capture's positive control: where the policy allows cleartext,
    # the same capture does show the password
    with Capture(work, "imap-127.0.0.3", mw.PORTS["imap"]) as cap:
        ok, text = mw.imap_login("127.0.0.3", "plain", "LOGIN")
    t.ok(ok and mw.PASSWORD.encode() in cap.data,
         "IMAP 127.0.0.3 (cleartext = always) logs in without TLS and the "
         "capture shows its password: the capture sees what it guards "
         "against", text)


def pop3_capa(p):
    return [line.decode() for line in p._longcmd("CAPA")[1]]


def run_pop3(t, dovecot, work):
    for source, desc in ((HOST_CLIENT, "host-rule client"),
                         (NO_PTR_CLIENT, "client without PTR")):
        p = mw.POP3(source)
        try:
            capa = pop3_capa(p)
            try:
                user = p.user(mw.USER).decode()
            except poplib.error_proto as e:
                user = str(e)
        finally:
            with contextlib.suppress(Exception):
                p.quit()
        sasl = [c for c in capa if c.startswith("SASL")]
        t.ok("STLS" in capa and not any("PLAIN" in c or "LOGIN" in c
                                        for c in sasl) and
             "USER" not in capa and not user.startswith("+OK"),
             "POP3 (tls = required) %s: no SASL PLAIN/LOGIN, no USER "
             "before STLS, and USER is refused" % desc, (capa, user))
        with Capture(work, "pop3-" + source, mw.PORTS["pop3"]) as cap:
            res = mw.pop3_userpass(source, stls=True)
        want = source == HOST_CLIENT
        t.ok(secret_absent(cap) and res.startswith("+OK") == want,
             "POP3 %s: the password never crosses the wire in clear "
             "(%s, %d bytes captured)" % (desc, res, len(cap.data)))

    with Capture(work, "pop3-127.0.0.3", mw.PORTS["pop3"]) as cap:
        res = mw.pop3_userpass("127.0.0.3")
    t.ok(res.startswith("+OK") and mw.PASSWORD.encode() in cap.data,
         "POP3 127.0.0.3 (from net: tls = optional, cleartext = always): "
         "USER/PASS without TLS logs in and the capture shows the password "
         "(positive control)", res)


def run_submission(t, dovecot, work):
    for source, desc in ((HOST_CLIENT, "host-rule client"),
                         (NO_PTR_CLIENT, "client without PTR")):
        s = mw.smtp(source)
        try:
            s.ehlo("client.test")
            before = s.esmtp_features.get("auth", "").upper().split()
        finally:
            with contextlib.suppress(Exception):
                s.quit()
        t.ok("PLAIN" not in before and "LOGIN" not in before,
             "submission with a 'from host' block, %s: no AUTH PLAIN/LOGIN "
             "before STARTTLS" % desc, before)
        with Capture(work, "sub-" + source, mw.PORTS["submission"]) as cap:
            code, _ = mw.smtp_plain(source, starttls="unless-offered")
        t.ok(secret_absent(cap) and code == 235,
             "submission %s: logs in after STARTTLS, the password never "
             "in clear (%s, %d bytes captured)" % (desc, code, len(cap.data)))

    # 127.0.0.1 is "secured" (rip = lip), which passes cleartext =
    # tls-only: AUTH PLAIN without TLS, base64 on the wire
    with Capture(work, "sub-127.0.0.1", mw.PORTS["submission"]) as cap:
        code, offered = mw.smtp_plain("127.0.0.1")
    t.ok(code == 235 and "PLAIN" in offered and secret_seen(cap),
         "submission from 127.0.0.1 (secured): AUTH PLAIN without TLS "
         "logs in and the capture shows the base64 credentials (positive "
         "control)", (code, offered))


def run_texts(t, dovecot, work, certs):
    """The client hears the decision's own short text."""
    ctx = mw.client_context(ciphers="ECDHE-RSA-AES128-GCM-SHA256",
                            max_tls12=True)
    ok, text = mw.imap_login("127.0.0.4", "starttls", "PLAIN", context=ctx)
    t.ok(not ok and "Cipher too weak" in text and
         "Unsupported" not in text,
         "a 128-bit cipher where 256 are required: 'Cipher too weak'", text)
    ok, text = mw.imap_login("127.0.0.5", "starttls", "PLAIN")
    t.ok(not ok and "Client certificate required" in text,
         "no client certificate: 'Client certificate required'", text)
    ok, text = mw.imap_login("127.0.0.5", "starttls", "PLAIN",
                             context=mw.client_context(
                                 os.path.join(certs, "client")))
    t.ok(ok, "with a client certificate 127.0.0.5 logs in", text)


def run_secured(t, dovecot):
    """127.0.0.1 -> 127.0.0.1 is "secured" for Dovecot."""
    ok, text = mw.imap_login("127.0.0.1", "plain", "LOGIN")
    t.ok(ok, "IMAP (secured_is_tls = yes): a secured client logs in "
         "without TLS", text)
    p = mw.POP3("127.0.0.1")
    try:
        capa = pop3_capa(p)
        try:
            p.user(mw.USER)
            res = p.pass_(mw.PASSWORD).decode()
        except poplib.error_proto as e:
            res = str(e)
    finally:
        with contextlib.suppress(Exception):
            p.quit()
    t.ok("STLS" in capa and "USER" not in capa and not res.startswith("+OK"),
         "POP3 (secured_is_tls = no, tls = required): a secured client "
         "without TLS gets no USER and is refused", (capa, res))
    p = mw.POP3("127.0.0.1")
    try:
        p.stls(mw.client_context())
        p.user(mw.USER)
        res = p.pass_(mw.PASSWORD).decode()
    except poplib.error_proto as e:
        res = str(e)
    finally:
        with contextlib.suppress(Exception):
            p.quit()
    t.ok(res.startswith("+OK"), "POP3 (secured_is_tls = no): after STLS "
         "the secured client logs in", res)


def main():
    t = mw.Tap()
    builddir = os.environ.get("MW_BUILDDIR", "build")
    work = mw.workdir()
    mw.setup_namespace(work, builddir)
    certs = os.path.join(work, "certs")
    mw.make_certs(certs)
    policy = os.path.join(work, "mailward.conf")
    write_policy(policy, POLICY)

    dns = mw.DnsServer()
    dns.add_host(HOST_CLIENT, "good.contoso.test")

    dovecot = mw.Dovecot(work, builddir, policy)
    try:
        dovecot.start()
        guarded(t, run_imap, t, dovecot, work)
        guarded(t, run_pop3, t, dovecot, work)
        guarded(t, run_submission, t, dovecot, work)
        guarded(t, run_texts, t, dovecot, work, certs)
        guarded(t, run_secured, t, dovecot)
    finally:
        dovecot.stop()
    if t.failed:
        t.diag("work directory kept: " + work)
    else:
        subprocess.run(["rm", "-rf", work])
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
