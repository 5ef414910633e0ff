"""One policy version at a time in the auth and login processes, changed
by "doveadm reload" only: a saved edit changes nothing until the reload,
a file that does not load at reload keeps the last good version in both,
and a Dovecot started with a bad file (and only a stale image of an
earlier run) refuses every client.

Run by test-dovecot-reload.sh inside a private network and mount
namespace, with the harness of mwdovecot.  Client 127.0.0.7 is the one
the edits deny; 127.0.0.8 stays allowed throughout.
"""

import os
import re
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mwdovecot as mw  # noqa: E402

POLICY = """\
service imap pop3 submission {
  allow any
  cleartext = always
}
"""

POLICY_DENY = """\
service imap pop3 submission {
  deny  net 127.0.0.7
  allow any
  cleartext = always
}
"""

# line 3, column 9: "deny" needs "net", "host" or "any"
POLICY_TYPO = """\
service imap pop3 submission {
  allow any
  deny  nte 127.0.0.8
  cleartext = always
}
"""

SNAP = "mailward-policy.snap"
VERSION_RE = re.compile(r"mailward: policy (\S+) version ([0-9a-f]{16}@\d+) "
                        r"in force")


def write_policy(path, text):
    # a new file each time, as an editor saves it
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.rename(tmp, path)


def snapshot_path(dovecot):
    return os.path.join(dovecot.dir, "run", "login", SNAP)


def snapshot_version(dovecot):
    """The version the image in the login directory carries, read from
    its header here (content hash at offset 32, load time at 40)."""
    with open(snapshot_path(dovecot), "rb") as f:
        head = f.read(96)
    content, load_time = struct.unpack_from("=Qq", head, 32)
    return "%016x@%d" % (content, load_time)


def auth_test(dovecot, rip):
    """The auth process's answer for a login from rip (doveadm auth test
    on the auth-client socket): (passed, output)."""
    res = dovecot.doveadm("auth", "test", "-x", "service=imap",
                          "-x", "rip=" + rip, "-x", "lip=127.0.0.1",
                          "-x", "secured=tls", mw.USER, mw.PASSWORD)
    return res.returncode == 0, res.stdout


def auth_pid(dovecot):
    for pid in dovecot._children(dovecot.proc.pid):
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and os.path.basename(argv[0]) == b"auth" and \
                b"-w" not in argv:
            return pid
    return None


def reload(t, dovecot, what):
    """doveadm reload, and wait until the old auth process is gone.
    Dovecot starts the new one when a process first connects to it (at
    once with process_min_avail login processes, else with the first
    client): the caller's first client may well be the one that starts
    it.  Returns (log mark, old auth PID)."""
    mark = dovecot.log_mark()
    old = auth_pid(dovecot)
    res = dovecot.doveadm("reload")
    t.ok(res.returncode == 0, "doveadm reload (%s)" % what, res.stdout)
    deadline = time.time() + 10
    while time.time() < deadline and old is not None and \
            auth_pid(dovecot) == old:
        time.sleep(0.05)
    return mark, old


def reloaded_log(t, dovecot, mark, old):
    """The log since the reload, once the new auth process has loaded the
    policy or failed to."""
    text = dovecot.wait_log(mark, "mailward: policy ", 10)
    if " in force" not in text:
        text = dovecot.wait_log(mark, "policy version", 10)
    new = auth_pid(dovecot)
    t.ok(new is not None and new != old,
         "the reload restarted the auth process (%s -> %s)" % (old, new))
    return text


METRICS = """\
metric mailward_load_failed {
  filter = event=mailward_policy_load_failed AND kept_version=*
}
"""


def load_failed_count(dovecot):
    out = dovecot.doveadm("stats", "dump").stdout
    m = re.search(r"^mailward_load_failed\s+\S+\s+(\d+)", out, re.M)
    return int(m.group(1)) if m else None


def greeting_ok(source, port="imap"):
    return mw.imap_greeting(source, mw.PORTS[port])


def check_admitted(t, dovecot, source, what):
    g = greeting_ok(source)
    t.ok(g.startswith("* OK"), "%s: %s gets the IMAP banner" % (what, source),
         g)
    ok, text = mw.imap_login(source)
    t.ok(ok, "%s: %s logs in (login and auth process admit)" %
         (what, source), text)
    ok, text = auth_test(dovecot, source)
    t.ok(ok, "%s: the auth process admits %s (doveadm auth test)" %
         (what, source), text)


def check_refused(t, dovecot, source, what):
    g = greeting_ok(source)
    t.ok(g.startswith("* BYE") and "UNAVAILABLE" not in g,
         "%s: %s refused at the IMAP banner" % (what, source), g)
    g = greeting_ok(source, "pop3")
    t.ok(g.startswith("-ERR"), "%s: %s refused at the POP3 banner" %
         (what, source), g)
    ok, text = auth_test(dovecot, source)
    t.ok(not ok and "Temporary" not in text,
         "%s: the auth process refuses %s (doveadm auth test)" %
         (what, source), text)


def run_reload(t, dovecot, policy, mode):
    # --- start: one version, published for the login processes ---------
    # The first login process may start before the auth process: it
    # must pick up the image published after its own start.
    check_admitted(t, dovecot, "127.0.0.7", "%s: start" % mode)
    log = dovecot.read_log()
    m = VERSION_RE.search(log)
    t.ok(m is not None and m.group(1) == policy,
         "%s: the auth process logs the policy version in force" % mode, log)
    st = os.stat(snapshot_path(dovecot))
    t.ok(st.st_uid == 0 and (st.st_mode & 0o777) == 0o644,
         "%s: the image is root's, mode 0644 (mode %o)" %
         (mode, st.st_mode & 0o777))
    first = m.group(2) if m else None
    t.ok(first is not None and snapshot_version(dovecot) == first,
         "%s: the image carries the version the auth process logged" % mode)
    leftovers = [n for n in os.listdir(os.path.dirname(
        snapshot_path(dovecot))) if n.startswith(SNAP + ".tmp")]
    t.ok(not leftovers, "%s: no temporary image is left" % mode, leftovers)

    # --- a saved edit changes nothing before the reload -------------------
    write_policy(policy, POLICY_DENY)
    check_admitted(t, dovecot, "127.0.0.7",
                   "%s: deny saved, no reload" % mode)
    t.ok(snapshot_version(dovecot) == first,
         "%s: the image is unchanged before the reload" % mode)

    # --- the reload puts it in force in both --------------------------------
    mark, old = reload(t, dovecot, "deny added")
    check_refused(t, dovecot, "127.0.0.7", "%s: after reload" % mode)
    log = reloaded_log(t, dovecot, mark, old)
    m = VERSION_RE.search(log)
    second = m.group(2) if m else None
    t.ok(second is not None and second != first and
         snapshot_version(dovecot) == second,
         "%s: the reload published a new version (%s), the one the auth "
         "process logged" % (mode, second), log)
    t.ok(second is not None and
         "imap-login: Debug: mailward: policy version %s (from the "
         "snapshot)" % second in log and
         "pop3-login: Debug: mailward: policy version %s" % second in log,
         "%s: the login processes that refused map that version (event "
         "mailward_policy_version)" % mode, log)
    check_admitted(t, dovecot, "127.0.0.8", "%s: after reload" % mode)

    # --- a typo at reload keeps the last good version in both ---------------
    write_policy(policy, POLICY_TYPO)
    mark, old = reload(t, dovecot, "typo")
    check_refused(t, dovecot, "127.0.0.7", "%s: typo at reload" % mode)
    log = reloaded_log(t, dovecot, mark, old)
    t.ok(re.search(r"Error: mailward: %s:3:9: .*keeping the last good policy "
                   r"version %s" % (re.escape(policy), re.escape(second or "")),
                   log) is not None,
         "%s: the typo is logged with file:line:column, and the version "
         "kept" % mode, log)
    count = load_failed_count(dovecot)
    t.ok(count == 1, "%s: Dovecot counts one mailward_policy_load_failed "
         "event (metric filter on its name: %s)" % (mode, count))
    t.ok(snapshot_version(dovecot) == second,
         "%s: the image of the last good version stays" % mode)
    check_admitted(t, dovecot, "127.0.0.8", "%s: typo at reload" % mode)


def run_restart_bad(t, dovecot, policy):
    """Started with a bad file and no image of this run: fail closed."""
    dovecot.stop()
    write_policy(policy, POLICY_TYPO)
    stale = os.path.exists(snapshot_path(dovecot))
    dovecot.start()
    log = dovecot.wait_log(0, "no good policy version")
    t.ok(stale, "restart: an image of the earlier run was there")
    t.ok(re.search(r"Error: mailward: %s:3:9: .*no good policy version" %
                   re.escape(policy), log) is not None,
         "restart with a typo: logged with file:line:column, every login "
         "refused", log)
    t.ok(not os.path.exists(snapshot_path(dovecot)),
         "restart with a typo: the stale image is removed")
    g = greeting_ok("127.0.0.8")
    t.ok(g.startswith("* BYE") and "UNAVAILABLE" in g,
         "restart with a typo: IMAP banner is BYE [UNAVAILABLE]", g)
    ok, text = auth_test(dovecot, "127.0.0.8")
    t.ok(not ok, "restart with a typo: the auth process refuses too", text)

    # fixed and reloaded: in force again
    write_policy(policy, POLICY)
    mark, old = reload(t, dovecot, "fixed")
    check_admitted(t, dovecot, "127.0.0.7", "fixed and reloaded")
    log = reloaded_log(t, dovecot, mark, old)
    t.ok(VERSION_RE.search(log) is not None,
         "fixed and reloaded: a version is in force again", log)


def wait_auth_gone(dovecot, pid, timeout=15):
    if pid is None:
        return True
    deadline = time.time() + timeout
    while time.time() < deadline and auth_pid(dovecot) == pid:
        time.sleep(0.1)
    return auth_pid(dovecot) != pid


def run_idle_restart(t, dovecot, policy):
    """The master stops an idle auth process (idle_kill) and starts a new
    one for the next client without a reload: it must keep the version,
    not read the file saved since."""
    check_admitted(t, dovecot, "127.0.0.7", "idle restart: start")
    first = snapshot_version(dovecot)
    write_policy(policy, POLICY_DENY)
    old = auth_pid(dovecot)
    t.ok(wait_auth_gone(dovecot, old),
         "idle restart: the idle auth process is stopped (idle_kill)")
    mark = dovecot.log_mark()
    check_admitted(t, dovecot, "127.0.0.7",
                   "idle restart, deny saved, no reload")
    log = dovecot.wait_log(mark, "restarted without a reload")
    new = auth_pid(dovecot)
    t.ok(new is not None and new != old and
         "version %s in force (kept: the auth process restarted without "
         "a reload)" % first in log,
         "idle restart: the new auth process (%s -> %s) keeps version %s"
         % (old, new, first), log)

    # a typo at reload keeps the last good version, also across a later
    # idle restart when the file was fixed without a reload
    write_policy(policy, POLICY_TYPO)
    mark, old = reload(t, dovecot, "idle restart: typo")
    check_admitted(t, dovecot, "127.0.0.7", "idle restart: typo at reload")
    log = dovecot.wait_log(mark, "keeping the last good policy version")
    t.ok("keeping the last good policy version %s" % first in log,
         "idle restart: the typo at reload keeps version %s" % first, log)
    write_policy(policy, POLICY_DENY)
    t.ok(wait_auth_gone(dovecot, auth_pid(dovecot)),
         "idle restart: the auth process is stopped again")
    check_admitted(t, dovecot, "127.0.0.7",
                   "idle restart after the typo, file fixed, no reload")
    t.ok(snapshot_version(dovecot) == first,
         "idle restart: still version %s" % first)

    mark, old = reload(t, dovecot, "idle restart: fixed")
    check_refused(t, dovecot, "127.0.0.7", "idle restart: reloaded")


# Long-lived login processes: several clients per process, kept between
# connections.
LONG_LIVED = "".join(
    "service %s {\n  %s\n  process_min_avail = 1\n  client_limit = 100\n}\n"
    % (name, "restart_request_count = unlimited" if mw.DOVECOT_24
       else "service_count = 0")
    for name in ("imap-login", "pop3-login"))


def main():
    t = mw.Tap()
    builddir, work = mw.test_setup()
    policy = os.path.join(work, "mailward.conf")
    debug = "log_debug = event=mailward_policy_version\n"
    for mode, extra in (("one login per process", debug),
                        ("long-lived login processes", debug + LONG_LIVED)):
        write_policy(policy, POLICY)
        dovecot = mw.Dovecot(work, builddir, policy, extra=extra,
                             metrics=METRICS,
                             name="dovecot-%d" % len(extra))
        try:
            dovecot.start()
            mw.guarded(t, run_reload, t, dovecot, policy, mode)
            if extra == debug:
                mw.guarded(t, run_restart_bad, t, dovecot, policy)
        finally:
            dovecot.stop()
    write_policy(policy, POLICY)
    dovecot = mw.Dovecot(work, builddir, policy, name="dovecot-idle",
                         extra="service auth {\n  %s = 2 secs\n}\n" % (
                             "idle_kill_interval" if mw.DOVECOT_24
                             else "idle_kill"))
    try:
        dovecot.start()
        mw.guarded(t, run_idle_restart, t, dovecot, policy)
    finally:
        dovecot.stop()
    return mw.test_done(t, work)


if __name__ == "__main__":
    sys.exit(main())
