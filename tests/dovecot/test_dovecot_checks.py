"""Configurations that would enforce less than the policy says are
refused or logged with the setting to change (mailward-dovecot(7),
CONFIGURATION CHECKS), and mailward audit reports the same; the
configuration that the documentation shows gets none of it.

Run by test-dovecot-checks.sh inside a private network and mount
namespace, with the harness of mwdovecot.  Each case starts its own
Dovecot."""

import contextlib
import imaplib
import json
import os
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mwdovecot as mw  # noqa: E402

POLICY = """\
service imap {
  allow net 127.0.0.0/8
  deny  any
  cleartext = tls-only
  from net 127.0.0.3 {
    cleartext = always
  }
}
service pop3 submission {
  allow any
}
"""

ORDER_FATAL = "mailward: passdb mailward is listed after passdb"
NO_PLUGIN = "without the cipher strength that the mailward_login"
OVERRULED = "cleartext passwords without TLS (cleartext = always"
CLEARTEXT_KEY = ("auth_allow_cleartext = no" if mw.DOVECOT_24
                 else "disable_plaintext_auth = yes")


def mailward_lines(text):
    return [line for line in text.splitlines()
            if "mailward:" in line and ("Warning" in line or
                                        "Fatal" in line or
                                        "Error" in line)]


def audit(dovecot, policy, builddir):
    """mailward audit of this Dovecot's configuration: the finding ids."""
    out = subprocess.run(
        [os.path.join(builddir, "mailward"), "audit", "-c", policy,
         "--json", "--dovecot-config", dovecot.conf, "--no-postfix"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        doc = json.loads(out.stdout)
    except ValueError:
        return set(), out.stdout + out.stderr
    items = doc.get("findings", doc) if isinstance(doc, dict) else doc
    return {f.get("id") for f in items if isinstance(f, dict)}, out.stdout


def check_dovecot(dovecot, policy, builddir):
    """mailward check -D: (exit status, output)."""
    out = subprocess.run(
        [os.path.join(builddir, "mailward"), "check", "-c", policy, "-D",
         dovecot.conf], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
    return out.returncode, out.stdout


def reported(t, desc, ids, audit_out, check, finding):
    """Both mailward audit and mailward check -D name the finding."""
    t.ok(finding in ids, "%s: mailward audit reports %s" % (desc, finding),
         audit_out)
    t.ok(check[0] == 1 and finding in check[1],
         "%s: mailward check -D reports %s (exit 1)" % (desc, finding),
         check)


def exercise(dovecot):
    """A TLS login and a cleartext-capable greeting from 127.0.0.3, so
    that the auth process and imap-login have run; returns the log."""
    mark = dovecot.log_mark()
    ok, text = mw.imap_login("127.0.0.2", "starttls", "PLAIN")
    try:
        caps = mw.imap_caps("127.0.0.3")
    except (imaplib.IMAP4.error, imaplib.IMAP4.abort, OSError) as e:
        caps = {str(e)}
    time.sleep(0.5)
    return ok, text, caps, dovecot.log_since(mark)


def scram_login(dovecot):
    dovecot.scram = mw.imap_login("127.0.0.2", "starttls", "SCRAM-SHA-256")
    time.sleep(0.3)


def case(t, work, builddir, policy, name, after=None, **kw):
    dovecot = mw.Dovecot(work, builddir, policy, name=name, **kw)
    try:
        dovecot.start()
        result = exercise(dovecot)
        if after is not None:
            after(dovecot)
        findings = audit(dovecot, policy, builddir)
        dovecot.check = check_dovecot(dovecot, policy, builddir)
        return dovecot, result, findings, dovecot.read_log()
    finally:
        dovecot.stop()


def run_correct(t, work, builddir, policy):
    dovecot, (ok, text, caps, _), (ids, raw), log = case(
        t, work, builddir, policy, "correct", after=scram_login)
    t.ok(ok, "documented configuration: a TLS login succeeds", text)
    t.ok(dovecot.scram[0], "documented configuration: a SCRAM-SHA-256 "
         "login (the credentials path) succeeds", dovecot.scram[1])
    t.ok("LOGINDISABLED" not in caps and "AUTH=PLAIN" in caps,
         "documented configuration: 127.0.0.3 (cleartext = always) is "
         "offered PLAIN before TLS", sorted(caps))
    t.ok(mailward_lines(log) == [],
         "documented configuration: no mailward warning, error or fatal "
         "in the log", mailward_lines(log))
    t.ok(not any(i and i.startswith("mailward-") for i in ids),
         "documented configuration: mailward audit reports no mailward-* "
         "finding", raw)
    t.ok(dovecot.check[0] == 0,
         "documented configuration: mailward check -D agrees (exit 0)",
         dovecot.check)


def run_order(t, work, builddir, policy):
    dovecot, (ok, text, _, _), (ids, raw), log = case(
        t, work, builddir, policy, "order", module=False,
        extra=mw.conf_passdb_mailward(policy))
    t.ok(ORDER_FATAL + " passwd-file" in log and "Fatal" in log and
         "list passdb mailward first" in log,
         "passdb mailward after passdb passwd-file: the auth process "
         "refuses to start, naming the passdb and the fix",
         mailward_lines(log) or log[-2000:])
    t.ok(not ok, "passdb mailward after passdb passwd-file: nobody logs in "
         "past the policy", text)
    reported(t, "passdb mailward after passdb passwd-file", ids, raw,
             dovecot.check, "mailward-passdb-order")


def conf_passdb_deny(path):
    """A deny = yes passdb: it only refuses the users it lists."""
    if mw.DOVECOT_24:
        return ("passdb denied {\n  driver = passwd-file\n"
                "  passwd_file_path = %s\n  deny = yes\n}\n" % path)
    return ("passdb {\n  driver = passwd-file\n  args = %s\n"
            "  deny = yes\n}\n" % path)


def run_order_deny_first(t, work, builddir, policy):
    denied = os.path.join(work, "denied-users")
    mw.write_policy(denied, "mallory:\n")
    stanza = (mw.conf_login_plugin(os.path.abspath(
        os.path.join(builddir, "dovecot-plugin"))) +
        conf_passdb_deny(denied) + mw.conf_passdb_mailward(policy))
    _, (ok, text, _, _), (ids, raw), log = case(
        t, work, builddir, policy, "denyfirst", stanza=stanza)
    t.ok(ok and ORDER_FATAL not in log and
         "mailward-passdb-order" not in ids,
         "a deny = yes passdb before passdb mailward: no refusal, no "
         "audit finding, logins work", (text, mailward_lines(log), raw))


def run_no_plugin(t, work, builddir, policy):
    dovecot, (ok, text, _, _), (ids, raw), log = case(
        t, work, builddir, policy, "noplugin", login_plugin=False)
    lines = [line for line in log.splitlines() if NO_PLUGIN in line]
    t.ok(ok and len(lines) == 1 and "login_plugins" in lines[0],
         "passdb without the login plugin: one warning at the first TLS "
         "login, naming login_plugins", mailward_lines(log) or text)
    reported(t, "passdb without the login plugin", ids, raw, dovecot.check,
             "mailward-passdb-without-plugin")


def run_no_passdb(t, work, builddir, policy):
    dovecot, (ok, text, _, _), (ids, raw), log = case(
        t, work, builddir, policy, "nopassdb", module=False)
    # Without the passdb nobody publishes the policy image, so the login
    # plugin refuses every client rather than leave host rules unenforced.
    lines = [line for line in log.splitlines()
             if "no valid mailward-policy.snap" in line and
             "127.0.0.2" in line]
    t.ok(not ok and len(lines) == 1 and
         "add passdb mailward as the first passdb" in lines[0],
         "login plugin without the passdb: the client is refused, and the "
         "log names the passdb to add",
         mailward_lines(log) or text)
    reported(t, "login plugin without the passdb", ids, raw, dovecot.check,
             "mailward-plugin-without-passdb")


def run_overruled(t, work, builddir, policy):
    dovecot, (ok, text, caps, _), (ids, raw), log = case(
        t, work, builddir, policy, "overruled",
        extra=mw.conf_cleartext(False))
    lines = [line for line in log.splitlines() if OVERRULED in line]
    t.ok("LOGINDISABLED" in caps,
         "%s: Dovecot does refuse cleartext to 127.0.0.3 although the "
         "policy allows it (what the warning is about)" % CLEARTEXT_KEY,
         sorted(caps))
    want = CLEARTEXT_KEY.replace("no", "yes") if mw.DOVECOT_24 else \
        CLEARTEXT_KEY.replace("yes", "no")
    t.ok(len(lines) == 1 and CLEARTEXT_KEY in lines[0] and
         "set " + want in lines[0] and
         "from net 127.0.0.3" in lines[0] and
         os.path.basename(policy) + ":6" in lines[0] and
         "127.0.0.3" in lines[0],
         "%s with a policy that relaxes cleartext: one warning, for the "
         "relaxed client only, naming the policy line and '%s'"
         % (CLEARTEXT_KEY, want),
         mailward_lines(log))
    reported(t, CLEARTEXT_KEY, ids, raw, dovecot.check,
             "mailward-cleartext-overruled")



# secured_is_tls, key by key: tls and tls_min_bits (imap), cleartext
# (pop3), client certificates (submission).  127.0.0.1 -> 127.0.0.1 is
# "secured" because rip = lip, 127.0.0.2 because of
# login_trusted_networks; 127.0.0.66 is a forwarded address the policy
# denies.
SECURED_POLICY = """\
service imap {{
  deny net 127.0.0.66
  allow any
  tls = required
  tls_min_bits = 256
  secured_is_tls = {v}
}}
service pop3 {{
  allow any
  cleartext = tls-only
  secured_is_tls = {v}
}}
service submission {{
  allow any
  client_cert = required
  secured_is_tls = {v}
}}
"""

SECURED_SOURCES = (("127.0.0.1", "rip = lip"),
                   ("127.0.0.2", "login_trusted_networks"))


def imap_forwarded(source, forwarded):
    """LOGIN after IMAP ID has forwarded another client address."""
    imaplib.Commands.setdefault("ID", ("NONAUTH", "AUTH", "SELECTED"))
    c = mw.IMAP(source)
    try:
        c._simple_command("ID", '("x-originating-ip" "%s")' % forwarded)
        typ, data = c.login(mw.USER, mw.PASSWORD)
        return typ == "OK", b" ".join(data).decode(errors="replace")
    except (c.error, c.abort) as e:
        return False, str(e)
    finally:
        with contextlib.suppress(Exception):
            c.logout()


def run_secured(t, work, builddir, _policy, value):
    tls = value == "yes"
    policy = os.path.join(work, "secured-%s.conf" % value)
    mw.write_policy(policy, SECURED_POLICY.format(v=value))
    certs = os.path.join(work, "certs")
    dovecot = mw.Dovecot(work, builddir, policy, name="secured-" + value,
                         extra="login_trusted_networks = 127.0.0.2/32\n")
    weak = mw.client_context(ciphers="ECDHE-RSA-AES128-GCM-SHA256",
                             max_tls12=True)
    try:
        dovecot.start()
        for source, why in SECURED_SOURCES:
            tag = "secured_is_tls = %s, %s (%s)" % (value, source, why)
            caps = mw.imap_caps(source)
            ok, text = mw.imap_login(source, "plain", "LOGIN")
            t.ok(ok == tls and ("LOGINDISABLED" in caps) != tls,
                 "%s: tls = required and tls_min_bits = 256 %s a login "
                 "without TLS" % (tag, "pass" if tls else "refuse"),
                 (text, sorted(caps)))
            ok, text = mw.imap_login(source, "starttls", "PLAIN",
                                     context=weak)
            t.ok(not ok and "Cipher too weak" in text,
                 "%s: over TLS a 128-bit cipher is still refused" % tag,
                 text)
            ok, text = mw.imap_login(source, "starttls", "PLAIN")
            t.ok(ok, "%s: over TLS with 256 bits the login passes" % tag,
                 text)
            res = mw.pop3_userpass(source)
            t.ok(res.startswith("+OK") == tls,
                 "%s: cleartext = tls-only %s POP3 USER/PASS without TLS"
                 % (tag, "passes" if tls else "refuses"), res)
            res = mw.pop3_userpass(source, stls=True)
            t.ok(res.startswith("+OK"),
                 "%s: POP3 USER/PASS after STLS passes" % tag, res)
            code, _ = mw.smtp_plain(source)
            t.ok(code != 235,
                 "%s: client_cert = required refuses AUTH without TLS "
                 "(a secured connection has no certificate)" % tag, code)
            code, _ = mw.smtp_plain(source, True, mw.client_context(
                os.path.join(certs, "client")))
            t.ok(code == 235, "%s: with TLS and a client certificate "
                 "AUTH passes" % tag, code)
        # the passdb alone, as a login process would ask it for a
        # secured client without TLS (a bare "secured")
        ac = mw.AuthClient(dovecot.auth_socket())
        try:
            for service, key, want in (("imap", "tls", tls),
                                       ("pop3", "cleartext", tls),
                                       ("submission", "client_cert", False)):
                res, f = ac.auth("PLAIN", service=service, rip="127.0.0.2",
                                 secured=True)
                t.ok((res == "OK") == want,
                     "secured_is_tls = %s: the passdb %s a secured %s "
                     "login without TLS (%s)" % (
                         value, "passes" if want else "refuses", service,
                         key), (res, f))
        finally:
            ac.close()
        if tls:
            ok, text = imap_forwarded("127.0.0.2", "127.0.0.66")
            t.ok(not ok and "Access denied" in text and
                 "Unsupported" not in text,
                 "a trusted proxy forwarding a denied address (IMAP ID): "
                 "the client hears the decision's text", text)
    finally:
        dovecot.stop()


def main():
    t = mw.Tap()
    builddir, work = mw.test_setup()
    policy = os.path.join(work, "mailward.conf")
    mw.write_policy(policy, POLICY)
    # each case starts its own Dovecot, so one that ends early (a
    # traceback) does not take the others with it
    for func, args in [(f, ()) for f in (
            run_correct, run_order, run_order_deny_first, run_no_plugin,
            run_no_passdb, run_overruled)] + \
            [(run_secured, (v,)) for v in ("yes", "no")]:
        try:
            func(t, work, builddir, policy, *args)
        except Exception:
            t.ok(False, "%s ended early" % func.__name__,
                 traceback.format_exc())
    return mw.test_done(t, work)


if __name__ == "__main__":
    sys.exit(main())
