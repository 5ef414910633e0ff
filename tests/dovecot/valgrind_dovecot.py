"""The passdb and the login plugin under valgrind, in a real Dovecot.

Run by valgrind-dovecot.sh inside a private network and mount namespace.
Dovecot starts its auth process and its imap-login processes through
valgrind (service { executable = valgrind ... }); the clients of
mwdovecot drive both modules through the kinds of decision they make,
then Dovecot stops and every valgrind'ed process writes its report as
XML.  A report that blames mailward code fails the test; the rest is
Dovecot's own and is printed as TAP comments.
"""

import concurrent.futures
import contextlib
import glob
import os
import signal
import socket
import subprocess
import sys
import time
import traceback
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mwdovecot as mw  # noqa: E402

# Debian's Dovecot: where the auth and login binaries live
LIBEXEC = "/usr/lib/dovecot"
VALGRINDED = ("auth", "imap-login")

MW_OBJECTS = ("libauthdb_mailward.so", "lib95_mailward_login_plugin.so")
MW_FUNCTION_PREFIXES = ("mw_", "mailward_")

POLICY = """\
dns {
  timeout      = 3s
  cache_ttl    = 15m
  negative_ttl = 1m
  cache_size   = 100
  on_error     = tempfail
}
defaults {
  cleartext = tls-only
  tls       = optional
}
service imap {
  deny  net 127.0.0.3
%(extra_rule)s  allow net 127.0.0.0/28
  deny  host .denied.test
  allow host .contoso.test
  deny  any
  mechanisms = PLAIN LOGIN SCRAM-SHA-256
}
service pop3 {
  allow net 127.0.0.0/8
  deny  any
  tls          = required
  tls_min_bits = 256
}
"""

BROKEN_POLICY = """\
service imap {
  allow net 192.0.2.0/33
}
"""

# --vgdb=no: nobody attaches a debugger, so no gdbserver FIFOs in /tmp
# for every process.  The text log holds valgrind's own warnings
# (and stays empty with -q otherwise); the XML file holds the errors with
# their stacks, and its closing tag shows that the process ended and the
# leak check ran.
VALGRIND = ("/usr/bin/valgrind -q --vgdb=no --num-callers=40 "
            "--leak-check=full --show-leak-kinds=definite,indirect "
            "--errors-for-leak-kinds=definite,indirect "
            "--log-file={vg}/{name}.%p --xml=yes "
            "--xml-file={vg}/{name}.%p.xml")

# GDB=1 in the environment keeps Dovecot from dlclose()ing the modules
# at exit (lib/module-dir.c), so that the leak check, which runs after
# that, still names the frames in them; without it they are bare
# addresses and a leak in mailward would pass for one of Dovecot's.
# Unlimited memory: valgrind and memcheck's shadow memory count against
# the 256 MB default, which would leave the process itself far less.
# No idle kill: an idle auth process would otherwise be stopped and
# restarted after a minute, and the number of reports would depend on
# the machine's speed.  process_min_avail: a spare imap-login has
# already paid valgrind's start-up time when a client connects.
ENV = {"GDB": "1"}


def extra_conf(auth, imap_login):
    return (mw.conf_service("auth", executable=auth, unlimited_memory=True,
                            never_idle_kill=True) +
            mw.conf_service("imap-login", executable=imap_login,
                            unlimited_memory=True, process_min_avail=2))


def write_policy(path, text):
    with open(path + ".new", "w") as f:
        f.write(text)
    os.chmod(path + ".new", 0o644)
    os.rename(path + ".new", path)


def auth_client(dovecot):
    """An AuthClient that gives up after a minute instead of hanging on
    an auth process that never answers."""
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(60)
    try:
        return mw.AuthClient(dovecot.auth_socket())
    finally:
        socket.setdefaulttimeout(old)


def auth_once(dovecot, mech, **kw):
    ac = auth_client(dovecot)
    try:
        return ac.auth(mech, **kw)
    finally:
        ac.close()


def eventually(func, timeout=30):
    """Polls func until it returns true: after a reload the old processes
    may still take a connection or two before they stop listening, and
    the auth socket may be missing for a moment."""
    deadline = time.time() + timeout
    while True:
        try:
            result = func()
        except OSError:
            # the listener is being set up again: not yet an answer
            if time.time() > deadline:
                raise
            result = False
        if result or time.time() > deadline:
            return result
        time.sleep(0.5)


def guarded(t, func, *args):
    try:
        func(*args)
    except Exception:
        t.ok(False, "%s ended early" % func.__name__,
             traceback.format_exc())


class Watchdog(BaseException):
    """Not an Exception: guarded() must not swallow it and go on with
    the next group of cases."""


def main():
    t = mw.Tap()
    builddir = os.environ.get("MW_BUILDDIR", "build")
    work = mw.workdir()
    mw.setup_namespace(work, builddir)
    mw.make_certs(os.path.join(work, "certs"))
    policy = os.path.join(work, "mailward.conf")
    write_policy(policy, POLICY % {"extra_rule": ""})
    vg = os.path.join(work, "vg")
    os.makedirs(vg)

    dns = mw.DnsServer()
    dns.add_host("127.0.0.20", "good.contoso.test")
    dns.add_host("127.0.0.21", "mx.denied.test")
    dns.add_host("127.0.0.22", "liar.contoso.test", forward=["127.0.0.99"])
    dns.add_host("127.0.0.23", "slow.contoso.test", delay=None)
    # long enough for three auth connections to the valgrind'ed auth
    # process to join the one lookup
    dns.add_host("127.0.0.24", "busy.contoso.test", delay=1.5)

    extra = extra_conf(
        auth=VALGRIND.format(vg=vg, name="auth") + " " + LIBEXEC + "/auth",
        imap_login=VALGRIND.format(vg=vg, name="imap-login") + " " +
        LIBEXEC + "/imap-login")
    dovecot = mw.Dovecot(work, builddir, policy, extra=extra, env=ENV)

    def watchdog(signum, frame):
        raise Watchdog("the clients took too long")

    start = time.time()
    signal.signal(signal.SIGALRM, watchdog)
    try:
        # a client or an auth process that hangs ends the cases as a
        # failure, and Dovecot is still stopped and the reports read
        signal.alarm(90)
        dovecot.start()
        guarded(t, run_decisions, t, dovecot, dns)
        guarded(t, run_reload, t, dovecot, policy)
        guarded(t, run_broken_reload, t, dovecot, policy)
    except (Exception, Watchdog) as e:
        t.ok(False, str(e), traceback.format_exc())
    finally:
        signal.alarm(0)
        stopped = stop_and_wait(dovecot, vg)
    t.diag("clients done and Dovecot stopped after %.0f s"
           % (time.time() - start))
    t.ok(stopped, "every valgrind'ed process ended by itself after "
         "Dovecot stopped")
    check_log(t, dovecot)
    # one auth process per configuration: the first and one per reload
    generations = 1 + dovecot.read_log().count("SIGHUP received")
    check_reports(t, vg, generations)
    if t.failed:
        t.diag("work directory kept: " + work)
    else:
        subprocess.run(["rm", "-rf", work])
    return t.done()


def run_decisions(t, dovecot, dns):
    # --- through the login plugin and the passdb: real IMAP clients ------
    ok, text = mw.imap_login("127.0.0.2", "starttls", mech="PLAIN")
    t.ok(ok, "IMAP AUTHENTICATE PLAIN after STARTTLS from an allowed "
         "address logs in", text)
    greeting = mw.imap_greeting("127.0.0.3")
    t.ok(greeting.startswith("* BYE"), "an address rule refuses 127.0.0.3 "
         "before the banner (login plugin)", greeting)
    caps = mw.imap_caps("127.0.0.2")
    ok, text = mw.imap_login("127.0.0.2", "plain")
    t.ok(not ok and "LOGINDISABLED" in caps,
         "cleartext LOGIN without TLS is refused (LOGINDISABLED)",
         "%s\n%s" % (caps, text))
    ok, text = mw.imap_login("127.0.0.2", "starttls", mech="SCRAM-SHA-256")
    t.ok(ok, "IMAP AUTHENTICATE SCRAM-SHA-256 after STARTTLS logs in "
         "(credentials lookup)", text)
    ok, text = mw.imap_login("127.0.0.5", "starttls")
    t.ok(ok, "127.0.0.5 logs in before the reload", text)

    # --- host names: PTR and forward lookups through dns-client -----------
    ok, text = mw.imap_login("127.0.0.20", "starttls")
    t.ok(ok and dns.count(addr="127.0.0.20") == 1,
         "host rule: good.contoso.test (forward-confirmed) logs in", text)
    ok, text = mw.imap_login("127.0.0.20", "starttls")
    t.ok(ok and dns.count(addr="127.0.0.20") == 1,
         "host rule: the second login from 127.0.0.20 uses the cache", text)
    ok, text = mw.imap_login("127.0.0.22", "starttls")
    t.ok(not ok, "host rule: liar.contoso.test (not forward-confirmed) "
         "is refused", text)
    ok, text = mw.imap_login("127.0.0.21", "starttls")
    t.ok(not ok, "host rule: mx.denied.test is refused", text)

    # --- the passdb alone, through the auth-client socket -----------------
    res, f = auth_once(dovecot, "PLAIN", rip="127.0.0.2")
    t.ok(res == "FAIL", "auth process: PLAIN without TLS is refused "
         "(cleartext = tls-only)", f)
    for mech in ("PLAIN", "CRAM-MD5", "SCRAM-SHA-256"):
        res, f = auth_once(dovecot, mech, rip="127.0.0.3", secured="tls")
        t.ok(res == "FAIL" and f.get("reason") == "Access denied",
             "auth process: %s from denied 127.0.0.3 fails" % mech, f)
    res, f = auth_once(dovecot, "CRAM-MD5", service="pop3",
                       rip="127.0.0.2", secured="tls",
                       extra=["forward_fields=mailward_cipher_bits=256"])
    t.ok(res == "OK", "auth process: CRAM-MD5 where the policy allows it "
         "goes on to the password check (credentials lookup)", f)
    res, f = auth_once(dovecot, "CRAM-MD5", rip="127.0.0.2", secured="tls")
    t.ok(res == "FAIL", "auth process: CRAM-MD5 outside imap's mechanisms "
         "is refused", f)
    start = time.time()
    res, f = auth_once(dovecot, "PLAIN", rip="127.0.0.23", secured="tls")
    t.ok(res == "FAIL" and f.get("code") == "temp_fail",
         "auth process: a PTR lookup that times out is a temporary "
         "failure (%.1f s)" % (time.time() - start), f)

    # several logins waiting for one lookup
    dns.reset_counts()
    with concurrent.futures.ThreadPoolExecutor(3) as ex:
        results = list(ex.map(
            lambda _: auth_once(dovecot, "PLAIN", rip="127.0.0.24",
                                secured="tls")[0], range(3)))
    t.ok(results == ["OK"] * 3 and dns.count(addr="127.0.0.24") == 1,
         "auth process: 3 concurrent logins share one lookup (PTR "
         "queries: %d)" % dns.count(addr="127.0.0.24"), results)


def run_reload(t, dovecot, policy):
    """The auth process loads the policy when it starts: "doveadm reload"
    replaces the auth and login processes, and the old ones exit, which
    runs the modules' deinit under valgrind."""
    write_policy(policy, POLICY % {"extra_rule": "  deny  net 127.0.0.5\n"})
    mark = dovecot.log_mark()
    out = dovecot.doveadm("reload")
    dovecot.wait_log(mark, "reloading configuration")
    t.ok(out.returncode == 0, "doveadm reload", out.stdout)

    def denied_by_auth():
        res, f = auth_once(dovecot, "PLAIN", rip="127.0.0.5", secured="tls")
        return res == "FAIL" and f.get("reason") == "Access denied"

    t.ok(eventually(denied_by_auth), "after the reload the new auth "
         "process denies 127.0.0.5")
    t.ok(eventually(lambda: mw.imap_greeting("127.0.0.5")
                    .startswith("* BYE")),
         "after the reload the new imap-login refuses 127.0.0.5")
    ok, text = mw.imap_login("127.0.0.2", "starttls", mech="PLAIN")
    t.ok(ok, "after the reload 127.0.0.2 still logs in", text)


def run_broken_reload(t, dovecot, policy):
    """A policy with an error at reload: the last good version stays in
    force in both modules; the auth process's fallback to the published
    image runs under valgrind too."""
    write_policy(policy, BROKEN_POLICY)
    mark = dovecot.log_mark()
    out = dovecot.doveadm("reload")
    dovecot.wait_log(mark, "reloading configuration")
    t.ok(out.returncode == 0, "doveadm reload with a broken policy",
         out.stdout)

    def still_denied_by_auth():
        res, f = auth_once(dovecot, "PLAIN", rip="127.0.0.5", secured="tls")
        return res == "FAIL" and f.get("reason") == "Access denied"

    t.ok(eventually(still_denied_by_auth), "broken policy: the new auth "
         "process keeps the last good version (denies 127.0.0.5)")
    log = dovecot.wait_log(mark, "keeping the last good policy version")
    t.ok("keeping the last good policy version" in log,
         "broken policy: the auth process logs the error and the version "
         "kept", log)
    t.ok(eventually(lambda: mw.imap_greeting("127.0.0.5")
                    .startswith("* BYE")),
         "broken policy: imap-login still refuses 127.0.0.5")
    ok, text = mw.imap_login("127.0.0.2", "starttls", mech="PLAIN")
    t.ok(ok, "broken policy: 127.0.0.2 still logs in", text)


# --- stopping and the reports ----------------------------------------------


def report_pid(path):
    return int(os.path.basename(path).split(".")[1])


def alive(pid):
    """Running, as opposed to gone or a zombie nobody has reaped yet."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def stop_and_wait(dovecot, vg, timeout=60):
    """SIGTERM to the master, then time for the processes to finish:
    the master does not wait for its children's exit, and a valgrind'ed
    process killed during its leak check would leave no report.  Returns
    False if something had to be killed."""
    if dovecot.proc is None:
        return False
    kids = dovecot._children(dovecot.proc.pid)
    dovecot.proc.send_signal(signal.SIGTERM)
    deadline = time.time() + timeout
    clean = True
    try:
        dovecot.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        dovecot.proc.kill()
        dovecot.proc.wait()
        clean = False
    pids = set(kids) | {report_pid(p) for p in glob.glob(vg + "/*.xml")}
    while time.time() < deadline and any(alive(p) for p in pids):
        time.sleep(0.2)
    for pid in pids:
        if alive(pid):
            clean = False
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    dovecot.proc = None
    return clean


# A crash under valgrind shows in the master's log, not in a report; so
# does an io or timeout still registered when a process ends, which
# Dovecot itself reports ("Timeout leak: ...").  The master's own
# "Killed with signal 15" at the end is the stop.
LOG_TROUBLE = ("Panic:", "Fatal:", "killed with signal",
               "Initial status notification not received",
               "Timeout leak", "I/O leak")


def check_log(t, dovecot):
    bad = [line for line in dovecot.read_log().splitlines()
           if any(word in line for word in LOG_TROUBLE)]
    t.ok(not bad, "no Dovecot process crashed, or left an io or a "
         "timeout behind", "\n".join(bad))


def may_be_mailward(frame):
    """A frame in the modules, or one valgrind cannot place: that is code
    unloaded before the leak check ran, which without GDB=1 would be the
    modules themselves."""
    obj = frame.findtext("obj")
    fn = frame.findtext("fn") or ""
    if obj is None:
        return not fn
    return (os.path.basename(obj) in MW_OBJECTS or
            fn.startswith(MW_FUNCTION_PREFIXES))


def frame_text(frame):
    fn = frame.findtext("fn") or frame.findtext("ip") or "?"
    if frame.findtext("file"):
        return "%s (%s:%s)" % (fn, frame.findtext("file"),
                               frame.findtext("line"))
    return "%s (%s)" % (fn, os.path.basename(frame.findtext("obj") or "?"))


def error_text(error):
    """One valgrind error as a few lines: what, then the stacks."""
    what = error.findtext("xwhat/text") or error.findtext("what") or ""
    lines = ["%s: %s" % (error.findtext("kind"), what)]
    whats = [a.text or "" for a in error.findall("auxwhat")]
    for i, stack in enumerate(error.findall("stack")):
        if i > 0 and i - 1 < len(whats):
            lines.append("  " + whats[i - 1])
        for frame in stack.findall("frame")[:12]:
            lines.append("    " + frame_text(frame))
    return lines


def read_report(path):
    """(process name, errors) from a valgrind XML file, or raises if the
    file is incomplete."""
    root = ET.parse(path).getroot()
    exe = root.findtext("args/argv/exe") or "?"
    return os.path.basename(exe), root.findall("error")


def check_reports(t, vg, generations):
    reports = {name: sorted(glob.glob("%s/%s.*.xml" % (vg, name)))
               for name in VALGRINDED}
    logs = {name: sorted(p for p in glob.glob("%s/%s.*" % (vg, name))
                         if not p.endswith(".xml"))
            for name in VALGRINDED}
    t.ok(len(reports["auth"]) == generations and
         len(logs["auth"]) == generations,
         "valgrind ran the auth process: %d reports for %d generations"
         % (len(reports["auth"]), generations),
         "\n".join(reports["auth"] + logs["auth"]))
    t.ok(len(reports["imap-login"]) > 0 and
         len(reports["imap-login"]) == len(logs["imap-login"]),
         "valgrind ran the imap-login processes: %d reports"
         % len(reports["imap-login"]))

    for name in VALGRINDED:
        incomplete = []
        ours = []
        theirs = []
        for path in reports[name]:
            pid = report_pid(path)
            try:
                exe, errors = read_report(path)
            except ET.ParseError as e:
                incomplete.append("%s: %s" % (path, e))
                continue
            if exe != name:
                incomplete.append("%s: ran %s" % (path, exe))
            for error in errors:
                text = ["%s[%d] " % (name, pid) + line
                        for line in error_text(error)]
                if any(may_be_mailward(f) for f in error.iter("frame")):
                    ours += text
                else:
                    theirs += text
        for path in logs[name]:
            with open(path) as f:
                warnings = f.read().strip()
            if warnings:
                t.diag("valgrind's log %s:\n%s" % (path, warnings))
        t.ok(not incomplete, "%s: every valgrind report is complete "
             "(the leak check ran)" % name, "\n".join(incomplete))
        t.ok(not ours, "%s: no invalid access and no definite or indirect "
             "leak in mailward code" % name)
        if ours:
            t.diag("\n".join(ours[:200]))
        if theirs:
            t.diag("%s: reported by valgrind in Dovecot's own code (not "
                   "mailward's):" % name)
            t.diag("\n".join(theirs[:200]))
        else:
            t.diag("%s: nothing reported in Dovecot's own code" % name)


if __name__ == "__main__":
    sys.exit(main())
