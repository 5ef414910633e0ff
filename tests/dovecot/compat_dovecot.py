"""The Dovecot 2.3 / 2.4 compatibility layer in a real Dovecot.

Run by test-compat.sh inside a private network and mount namespace.
Whichever Dovecot is installed: the modules were built for it, the
conf.d stanza that "make install" puts in place works as written, and
bad passdb options are refused the way that version refuses them.
"""

import os
import re
import subprocess
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mwdovecot as mw  # noqa: E402

POLICY = """\
service imap {
  deny  net 127.0.0.3
  allow net 127.0.0.0/8
  deny  any
}
"""

SRCDIR = os.environ.get("MW_SRCDIR", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def version_name():
    return "2.4" if mw.DOVECOT_24 else "2.3"


def installed_stanza(work, policy, builddir):
    """What "make install" puts in place for this Dovecot, enabled: the
    conf.d snippet with its !include_try uncommented, and the settings
    file it includes, with the policy path replaced."""
    confd = os.path.join(SRCDIR, "dovecot-plugin", "conf.d")
    pkgdata = os.path.join(work, "share-mailward")
    os.makedirs(pkgdata, exist_ok=True)
    with open(os.path.join(confd, "dovecot-mailward-%s.conf.in"
                           % version_name())) as f:
        settings = f.read().replace("@sysconfdir@/mailward/mailward.conf",
                                    policy)
    with open(os.path.join(pkgdata, "dovecot-mailward.conf"), "w") as f:
        f.write(settings)
    with open(os.path.join(confd, "05-mailward.conf.in")) as f:
        snippet = f.read().replace("@pkgdatadir@", pkgdata)
    snippet = "\n".join(line[1:] if line.startswith("#!include")
                        else line for line in snippet.splitlines())
    plugin_dir = os.path.abspath(os.path.join(builddir, "dovecot-plugin"))
    return "login_plugin_dir = %s\n%s\n" % (plugin_dir, snippet)


def guarded(t, func, *args):
    try:
        func(*args)
    except Exception:
        t.ok(False, "%s ended early" % func.__name__,
             traceback.format_exc())


def main():
    t = mw.Tap()
    builddir = os.environ.get("MW_BUILDDIR", "build")
    work = mw.workdir()
    mw.setup_namespace(work, builddir)
    mw.make_certs(os.path.join(work, "certs"))
    policy = os.path.join(work, "mailward.conf")
    with open(policy, "w") as f:
        f.write(POLICY)
    os.chmod(policy, 0o644)

    settings_module = os.path.join(builddir, "dovecot-plugin",
                                   "libmailward_settings.so")
    t.ok(os.path.exists(settings_module) == mw.DOVECOT_24,
         "configure chose the %s interfaces for Dovecot %d.%d (settings "
         "module %s)" % (version_name(), mw.DOVECOT_VERSION[0],
                         mw.DOVECOT_VERSION[1],
                         "built" if mw.DOVECOT_24 else "not needed"))
    guarded(t, run_stanza, t, work, builddir, policy)
    guarded(t, run_bad_options, t, work, builddir, policy)
    if t.failed:
        t.diag("work directory kept: " + work)
    else:
        subprocess.run(["rm", "-rf", work])
    return t.done()


def run_stanza(t, work, builddir, policy):
    stanza = installed_stanza(work, policy, builddir)
    d = mw.Dovecot(work, builddir, policy, name="stanza", stanza=stanza)
    out = subprocess.run(["doveconf", "-c", d.conf, "-n"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    if mw.DOVECOT_24:
        shown = re.search(r"^passdb mailward \{\n(\s+\S+ = .*\n)*"
                          r"\s+mailward_policy = %s\n"
                          % re.escape(policy), out.stdout, re.M)
    else:
        shown = re.search(r"^passdb \{\n\s+args = %s\n\s+driver = mailward"
                          % re.escape(policy), out.stdout, re.M)
    t.ok(out.returncode == 0 and shown is not None,
         "doveconf reads conf.d/05-mailward.conf, enabled, and the %s "
         "settings it includes, as installed" % version_name(), out.stdout)
    try:
        d.start()
        ac = mw.AuthClient(d.auth_socket())
        ok, _ = ac.auth("PLAIN", rip="127.0.0.2", secured="tls")
        denied, f = ac.auth("PLAIN", rip="127.0.0.3", secured="tls")
        ac.close()
        t.ok(ok == "OK" and denied == "FAIL" and
             f.get("reason") == "Access denied",
             "with that stanza the passdb allows 127.0.0.2 and denies "
             "127.0.0.3", f)
        t.ok(mw.imap_greeting("127.0.0.3").startswith("* BYE"),
             "with that stanza the login plugin refuses 127.0.0.3 before "
             "the banner")
    finally:
        d.stop()


def run_bad_options(t, work, builddir, policy):
    if mw.DOVECOT_24:
        stanza = ("passdb mailward {\n  mailward_polcy = %s\n}\n" % policy)
        d = mw.Dovecot(work, builddir, policy, name="misspelt",
                       stanza=stanza)
        out = subprocess.run(["doveconf", "-c", d.conf, "-n"],
                             stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        t.ok(out.returncode != 0 and "mailward_polcy" in out.stdout,
             "doveconf refuses a misspelt passdb setting and names it",
             out.stdout)
        stanza = "passdb mailward {\n  mailward_policy = mailward.conf\n}\n"
        d = mw.Dovecot(work, builddir, policy, name="relative",
                       stanza=stanza)
        out = subprocess.run(["doveconf", "-c", d.conf, "-n"],
                             stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        t.ok(out.returncode != 0 and
             "not an absolute path" in out.stdout,
             "doveconf refuses a relative mailward_policy", out.stdout)
        return
    stanza = ("passdb {\n  driver = mailward\n  args = nodelya %s\n}\n"
              % policy)
    d = mw.Dovecot(work, builddir, policy, name="misspelt", stanza=stanza)
    try:
        d.start()
        try:
            ac = mw.AuthClient(d.auth_socket())
            res, _ = ac.auth("PLAIN", rip="127.0.0.2", secured="tls")
            ac.close()
        except (OSError, ConnectionError):
            res = "no answer"
        log = d.wait_log(0, "Unknown parameter")
        t.ok(res != "OK" and "Unknown parameter: nodelya" in log,
             "a misspelt args word stops the auth process, which names it "
             "(nobody logs in)", log)
    finally:
        d.stop()


if __name__ == "__main__":
    sys.exit(main())
