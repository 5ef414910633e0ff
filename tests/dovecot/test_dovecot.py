"""The mailward policy enforced by a real Dovecot, driven by real clients.

Run by test-dovecot.sh inside a private network and mount namespace.
Clients come from several 127.0.0.x and IPv6 source addresses; their
names come from the DNS server of mwdovecot through the system resolver.
"""

import concurrent.futures
import os
import re
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mwdovecot as mw  # noqa: E402

POLICY = """\
dns {
  timeout      = 1s
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
  deny  net 127.0.0.8/30
  deny  net 2001:db8:9::/48
  allow net 127.0.0.0/255.255.255.240
  allow net 2001:db8:1::/48 ::1
  deny  host .denied.test
  allow host .contoso.test
  deny  any
  mechanisms = PLAIN LOGIN SCRAM-SHA-256
  from net 127.0.0.4/32 {
    cleartext = always
  }
}
service pop3 {
  allow net 127.0.0.0/8 ::1
  deny  any
  tls          = required
  tls_min_bits = 256
}
service submission {
  allow net 127.0.0.0/8
  deny  any
  tls         = required
  client_cert = required
}
"""

# One decision event counted by Dovecot's own statistics.
METRICS = """\
metric mailward_deny {
  filter = event=mailward_decision AND decision=deny
}
"""

# A small cache with short lifetimes, to see entries go.
CACHE_POLICY = """\
dns {
  timeout      = 1s
  cache_ttl    = 15m
  negative_ttl = 1s
  cache_size   = 2
}
service imap {
  allow host .contoso.test
  deny  any
}
"""

BROKEN_POLICY = """\
service imap {
  allow net 192.0.2.0/33
}
"""


def line_of(text, needle):
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    raise KeyError(needle)


def decision_lines(log, rip):
    return [l for l in log.splitlines()
            if "mailward: decision=" in l and " rip=%s " % rip in l]


def guarded(t, func, *args):
    """A client error ends a group of cases as one failure, and the
    remaining groups still run (and Dovecot is still stopped)."""
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
    certs = os.path.join(work, "certs")
    policy = os.path.join(work, "mailward.conf")
    with open(policy, "w") as f:
        f.write(POLICY)
    os.chmod(policy, 0o644)

    dns = mw.DnsServer()
    dns.add_host("127.0.0.20", "good.contoso.test")
    dns.add_host("127.0.0.21", "mx.denied.test")
    dns.add_host("127.0.0.22", "liar.contoso.test", forward=["127.0.0.99"])
    dns.add_host("127.0.0.23", "slow.contoso.test", delay=None)
    dns.add_host("127.0.0.24", "busy.contoso.test", delay=0.7)
    dns.add_host("2001:db8:2::20", "v6.contoso.test")

    dovecot = mw.Dovecot(work, builddir, policy, metrics=METRICS)
    try:
        dovecot.start()
        guarded(t, run_cases, t, dovecot, dns, policy, certs)
        guarded(t, run_capture, t, dovecot, work)
        guarded(t, run_metrics, t, dovecot)
    finally:
        dovecot.stop()
    guarded(t, run_cache, t, work, builddir, dns)
    guarded(t, run_broken, t, work, builddir)
    guarded(t, run_penalty, t, work, builddir, policy)
    if t.failed:
        t.diag("work directory kept: " + work)
    else:
        subprocess.run(["rm", "-rf", work])
    return t.done()


def run_cases(t, dovecot, dns, policy, certs):
    rule_line = line_of(POLICY, "deny  net 127.0.0.3")

    # --- connection control: refused before the banner ------------------
    t.ok(mw.imap_greeting("127.0.0.2").startswith("* OK"),
         "allowed address 127.0.0.2 gets the IMAP banner")
    mark = dovecot.log_mark()
    greeting = mw.imap_greeting("127.0.0.3")
    t.ok(greeting.startswith("* BYE") and "OK" not in greeting,
         "denied address 127.0.0.3 is refused before the banner",
         greeting)
    log = dovecot.wait_log(mark, "rip=127.0.0.3")
    lines = decision_lines(log, "127.0.0.3")
    t.ok(any("decision=deny service=imap rip=127.0.0.3" in l and
             "at=%s:%d" % (policy, rule_line) in l for l in lines),
         "the refusal is logged with service, address and rule file:line",
         log)
    t.ok(mw.imap_greeting("127.0.0.9").startswith("* BYE"),
         "CIDR rule: 127.0.0.9 in 127.0.0.8/30 refused")
    t.ok(mw.imap_login("127.0.0.13", "starttls")[0],
         "netmask rule: 127.0.0.13 in 127.0.0.0/255.255.255.240 logs in")
    t.ok(mw.imap_greeting("2001:db8:9::5").startswith("* BYE"),
         "IPv6 rule: 2001:db8:9::5 in 2001:db8:9::/48 refused")
    greeting = mw.imap_greeting("2001:db8:9::5", mw.PORTS["pop3"])
    t.ok(greeting == "-ERR Access denied.",
         "POP3: 2001:db8:9::5 (not in 127.0.0.0/8 ::1) refused before the "
         "banner", greeting)
    greeting = mw.imap_greeting("2001:db8:9::5", mw.PORTS["submission"])
    t.ok(greeting.startswith("421 ") and "Access denied" in greeting,
         "submission: 2001:db8:9::5 refused with 421 before the banner",
         greeting)
    ok, text = imap_login_v6("2001:db8:1::5")
    t.ok(ok, "IPv6 rule: 2001:db8:1::5 in 2001:db8:1::/48 logs in", text)

    # --- host names: forward-confirmed, through the system resolver ---------
    dns.reset_counts()
    mark = dovecot.log_mark()
    ok, text = mw.imap_login("127.0.0.20", "starttls")
    t.ok(ok, "host rule: 127.0.0.20 = good.contoso.test (confirmed) "
         "logs in", text)
    log = dovecot.wait_log(mark, "rip=127.0.0.20")
    t.ok(any('host="good.contoso.test"' in l and "decision=allow" in l
             for l in decision_lines(log, "127.0.0.20")),
         "the log line names the confirmed host", log)
    ok2, _ = mw.imap_login("127.0.0.20", "starttls")
    t.ok(ok2 and dns.count(addr="127.0.0.20") == 1,
         "a second login from 127.0.0.20 uses the cache (PTR queries: %d)"
         % dns.count(addr="127.0.0.20"))

    ok, text = mw.imap_login("127.0.0.21", "starttls")
    t.ok(not ok, "host rule: mx.denied.test (127.0.0.21) is refused", text)
    mark = dovecot.log_mark()
    ok, text = mw.imap_login("127.0.0.22", "starttls")
    log = dovecot.wait_log(mark, "rip=127.0.0.22")
    t.ok(not ok and any('host=""' in l and "decision=deny" in l
                        for l in decision_lines(log, "127.0.0.22")),
         "liar.contoso.test (PTR of 127.0.0.22, resolves elsewhere) does "
         "not count as the host name", log)
    mark = dovecot.log_mark()
    start = time.time()
    ok, text = mw.imap_login("127.0.0.23", "starttls")
    spent = time.time() - start
    log = dovecot.wait_log(mark, "rip=127.0.0.23")
    t.ok(not ok and "UNAVAILABLE" in text.upper() and spent < 4 and
         any("decision=tempfail" in l
             for l in decision_lines(log, "127.0.0.23")),
         "a PTR lookup that times out applies on_error = tempfail "
         "(%.1f s)" % spent, text + "\n" + log)
    ok, text = imap_login_v6("2001:db8:2::20")
    t.ok(ok, "IPv6 host rule: 2001:db8:2::20 = v6.contoso.test logs in",
         text)

    with concurrent.futures.ThreadPoolExecutor(6) as ex:
        results = list(ex.map(lambda _: mw.imap_login("127.0.0.24",
                                                      "starttls"),
                              range(6)))
    t.ok(all(r[0] for r in results) and
         dns.count(addr="127.0.0.24") == 1,
         "6 concurrent logins from one address share one PTR lookup "
         "(PTR queries: %d)" % dns.count(addr="127.0.0.24"),
         results)
    dns.reset_counts()
    mw.imap_login("127.0.0.2", "starttls")
    mw.imap_login("127.0.0.14", "starttls")
    t.ok(dns.count(addr="127.0.0.2") == 0 and
         dns.count(addr="127.0.0.14") == 0,
         "no DNS lookup when no rule needs the host name")

    # --- cleartext and TLS ----------------------------------------------------
    caps = mw.imap_caps("127.0.0.2")
    t.ok("LOGINDISABLED" in caps and "AUTH=PLAIN" not in caps and
         "STARTTLS" in caps,
         "without TLS: LOGINDISABLED, no AUTH=PLAIN, STARTTLS offered",
         caps)
    ok, text = mw.imap_login("127.0.0.2", "plain")
    t.ok(not ok, "cleartext LOGIN without TLS is refused", text)
    t.ok(mw.imap_login("127.0.0.2", "starttls")[0],
         "cleartext LOGIN after STARTTLS is accepted")
    t.ok(mw.imap_login("127.0.0.2", "imaps")[0],
         "cleartext LOGIN on implicit TLS (imaps) is accepted")
    t.ok(mw.imap_login("127.0.0.4", "plain")[0],
         "from net 127.0.0.4/32 { cleartext = always }: LOGIN without TLS "
         "is accepted")

    # --- mechanisms -------------------------------------------------------------
    caps = mw.imap_caps("127.0.0.2", starttls=True)
    t.ok("AUTH=PLAIN" in caps and "AUTH=SCRAM-SHA-256" in caps and
         "AUTH=CRAM-MD5" not in caps and "LOGINDISABLED" not in caps,
         "after STARTTLS: PLAIN and SCRAM-SHA-256 advertised, CRAM-MD5 "
         "(not in mechanisms) is not", caps)
    ok, text = mw.imap_login("127.0.0.2", "starttls", mech="CRAM-MD5")
    t.ok(not ok, "IMAP AUTHENTICATE CRAM-MD5 is refused", text)
    ok, text = mw.imap_login("127.0.0.2", "starttls", mech="SCRAM-SHA-256")
    t.ok(ok, "IMAP AUTHENTICATE SCRAM-SHA-256 over TLS logs in", text)

    # the passdb alone, through the auth-client socket: both lookup paths
    ac = mw.AuthClient(dovecot.auth_socket())
    try:
        res, f = ac.auth("PLAIN", rip="127.0.0.2", secured="tls")
        t.ok(res == "OK", "auth process: PLAIN from an allowed address "
             "over TLS succeeds", f)
        for mech in ("PLAIN", "CRAM-MD5", "SCRAM-SHA-256"):
            res, f = ac.auth(mech, rip="127.0.0.3", secured="tls")
            t.ok(res == "FAIL" and f.get("reason") == "Access denied",
                 "auth process: %s from denied 127.0.0.3 fails with the "
                 "short reason" % mech, f)
        res, f = ac.auth("CRAM-MD5", rip="127.0.0.2", secured="tls")
        t.ok(res == "FAIL", "auth process: CRAM-MD5 (not in imap's "
             "mechanisms) cannot bypass the policy", f)
        res, f = ac.auth("CRAM-MD5", service="pop3", rip="127.0.0.2",
                         secured="tls", extra=["forward_fields="
                                               "mailward_cipher_bits=256"])
        t.ok(res == "OK", "auth process: CRAM-MD5 where the policy allows "
             "it goes on to the password check", f)
        res, f = ac.auth("PLAIN", rip="127.0.0.2")
        t.ok(res == "FAIL", "auth process: PLAIN without TLS is refused "
             "(cleartext = tls-only)", f)
        res, f = ac.auth("SCRAM-SHA-256", service="pop3", rip="127.0.0.2")
        t.ok(res == "FAIL", "auth process: SCRAM without TLS is refused "
             "where tls = required", f)
        # Postfix (smtpd_sasl_type = dovecot) says a bare "secured" for
        # a TLS session, and nothing otherwise
        res, f = ac.auth("PLAIN", service="smtp",
                         rip="127.0.0.2")
        t.ok(res == "FAIL", "auth process: Postfix SASL (service smtp) "
             "PLAIN outside TLS is refused by the defaults", f)
        res, f = ac.auth("PLAIN", service="smtp", rip="127.0.0.2",
                         secured=True)
        t.ok(res == "OK", "auth process: Postfix SASL PLAIN in a TLS "
             "session (bare \"secured\") is accepted", f)
        res, f = ac.auth("PLAIN", rip="127.0.0.2", secured="tls",
                         password="wrong")
        t.ok(res == "FAIL", "auth process: an allowed login still needs "
             "the right password (next passdb)", f)
    finally:
        ac.close()

    # --- POP3: TLS required, minimum cipher strength ------------------------------
    p = mw.POP3("127.0.0.2")
    capa = p.capa()
    try:
        p.user(mw.USER)
        p.pass_(mw.PASSWORD)
        plain_ok = True
    except Exception:
        plain_ok = False
    finally:
        p.close()
    t.ok(not plain_ok and "STLS" in capa and
         "PLAIN" not in " ".join(capa.get("SASL", [])),
         "POP3 without TLS: no SASL PLAIN offered, USER/PASS refused",
         capa)
    p = mw.POP3("127.0.0.2")
    p.stls(mw.client_context(ciphers="ECDHE-RSA-AES256-GCM-SHA384", max_tls12=True))
    try:
        p.user(mw.USER)
        t.ok(p.pass_(mw.PASSWORD).startswith(b"+OK"),
             "POP3 after STLS with a 256-bit cipher logs in")
    except Exception as e:
        t.ok(False, "POP3 after STLS with a 256-bit cipher logs in", e)
    finally:
        p.close()
    out = openssl_pop3("ECDHE-RSA-AES128-GCM-SHA256")
    t.ok("+OK Logged in" not in out and "-ERR" in out,
         "POP3S with a 128-bit cipher (tls_min_bits = 256) is refused "
         "(openssl s_client)", out)
    t.ok(re.search(r"^SASL\s*$", out, re.M) is not None or
         "SASL PLAIN" not in out,
         "POP3S with a 128-bit cipher: CAPA offers no SASL mechanism", out)
    out = openssl_pop3("ECDHE-RSA-AES256-GCM-SHA384")
    t.ok("+OK Logged in" in out,
         "POP3S with a 256-bit cipher logs in (openssl s_client)", out)

    # --- submission: client certificate required --------------------------------
    for cert, want, desc in ((None, False, "without a client certificate"),
                             ("rogue", False, "with an untrusted certificate"),
                             ("client", True, "with a certificate from the CA")):
        s = mw.smtp("127.0.0.2")
        ctx = mw.client_context(os.path.join(certs, cert) if cert else None)
        try:
            s.starttls(context=ctx)
            s.ehlo("client.test")
            # submission-login says a bare "AUTH" when no mechanism is left
            advertised = s.esmtp_features.get("auth", "").strip() != ""
            try:
                code, _ = s.login(mw.USER, mw.PASSWORD)
                ok = code == 235
            except Exception:
                ok = False
        finally:
            try:
                s.quit()
            except Exception:
                pass
        t.ok(ok == want and advertised == want,
             "submission %s: AUTH %s" % (desc, "offered and accepted" if want
                                        else "not offered, login refused"),
             (ok, advertised))


def imap_login_v6(source):
    try:
        c = mw.IMAP(source, host="::1")
        c.starttls(mw.client_context())
        typ, data = c.login(mw.USER, mw.PASSWORD)
        c.logout()
        return typ == "OK", data
    except Exception as e:
        return False, str(e)


def openssl_pop3(cipher):
    script = "CAPA\r\nUSER %s\r\nPASS %s\r\nQUIT\r\n" % (mw.USER,
                                                        mw.PASSWORD)
    proc = subprocess.Popen(
        ["openssl", "s_client", "-connect",
         "127.0.0.1:%d" % mw.PORTS["pop3s"], "-tls1_2", "-cipher", cipher,
         "-quiet", "-ign_eof"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    out = ""
    try:
        # one command at a time, so that the answers arrive in order
        time.sleep(0.5)
        for cmd in script.split("\r\n")[:-1]:
            proc.stdin.write(cmd + "\r\n")
            proc.stdin.flush()
            time.sleep(0.3)
        out, _ = proc.communicate(timeout=10)
    except BrokenPipeError:
        # the server closed the connection: read what it said
        out = proc.stdout.read()
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out


def run_capture(t, dovecot, work):
    """The seed's own check: the password crosses the wire in the clear
    when the policy allows cleartext, and never when it requires TLS."""
    port = mw.PORTS["imap"]
    pcap = os.path.join(work, "cleartext.pcap")
    cap = mw.tcpdump_start(pcap, port)
    ok, _ = mw.imap_login("127.0.0.4", "plain")
    mw.tcpdump_stop(cap)
    payload = mw.capture_payload(pcap)
    t.ok(ok and mw.PASSWORD.encode() in payload,
         "capture: with cleartext = always the password is on the wire")

    pcap = os.path.join(work, "tls.pcap")
    cap = mw.tcpdump_start(pcap, port)
    # a client that follows the capabilities: LOGINDISABLED -> STARTTLS
    c = mw.IMAP("127.0.0.2")
    caps = set(c.capability()[1][0].decode().upper().split())
    if "LOGINDISABLED" in caps:
        c.starttls(mw.client_context())
    typ, _ = c.login(mw.USER, mw.PASSWORD)
    c.logout()
    mw.tcpdump_stop(cap)
    payload = mw.capture_payload(pcap)
    t.ok(typ == "OK" and "LOGINDISABLED" in caps and len(payload) > 0 and
         mw.PASSWORD.encode() not in payload,
         "capture: with cleartext = tls-only the password never appears "
         "(%d bytes captured)" % len(payload))


def run_metrics(t, dovecot):
    out = dovecot.doveadm("stats", "dump").stdout
    # metric_name field count ...
    m = re.search(r"^mailward_deny\s+\S+\s+(\d+)", out, re.M)
    t.ok(m is not None and int(m.group(1)) > 0,
         "Dovecot's metric { } counts mailward_decision events "
         "(denials: %s)" % (m.group(1) if m else "none"), out)


def run_cache(t, work, builddir, dns):
    """Negative lifetime and size bound of the FCrDNS cache, seen from
    the questions that reach the DNS server."""
    policy = os.path.join(work, "cache.conf")
    with open(policy, "w") as f:
        f.write(CACHE_POLICY)
    os.chmod(policy, 0o644)
    d = mw.Dovecot(work, builddir, policy, name="cache")
    try:
        d.start()
        ac = mw.AuthClient(d.auth_socket())

        def login(rip):
            return ac.auth("PLAIN", rip=rip, secured="tls")[0]

        dns.reset_counts()
        first = login("127.0.0.22"), login("127.0.0.22")
        t.ok(first == ("FAIL", "FAIL") and
             dns.count(addr="127.0.0.22") == 1,
             "an unconfirmed name is cached for negative_ttl (PTR "
             "queries: %d)" % dns.count(addr="127.0.0.22"))
        time.sleep(1.5)
        login("127.0.0.22")
        t.ok(dns.count(addr="127.0.0.22") == 2,
             "after negative_ttl the address is looked up again (PTR "
             "queries: %d)" % dns.count(addr="127.0.0.22"))
        dns.reset_counts()
        results = [login(rip) for rip in ("127.0.0.20", "127.0.0.24",
                                           "2001:db8:2::20", "127.0.0.20")]
        t.ok(results == ["OK"] * 4 and
             dns.count(addr="127.0.0.20") == 2,
             "cache_size = 2: the oldest address is evicted and looked up "
             "again (PTR queries for 127.0.0.20: %d)"
             % dns.count(addr="127.0.0.20"), results)
        ac.close()
    finally:
        d.stop()


def run_broken(t, work, builddir):
    broken = os.path.join(work, "broken.conf")
    with open(broken, "w") as f:
        f.write(BROKEN_POLICY)
    os.chmod(broken, 0o644)
    d = mw.Dovecot(work, builddir, broken, name="broken")
    try:
        d.start()
        ac = mw.AuthClient(d.auth_socket())
        res, f = ac.auth("PLAIN", rip="127.0.0.2", secured="tls")
        ac.close()
        log = d.wait_log(0, "refusing every login")
        t.ok(res == "FAIL", "broken policy: the auth process refuses a "
             "login (fail closed)", f)
        t.ok(re.search(re.escape(broken) + r":2:\d+: ", log) is not None,
             "broken policy: the auth process logs file:line:column", log)
        t.ok(mw.imap_greeting("127.0.0.2").startswith("* BYE"),
             "broken policy: the login process refuses clients")
    finally:
        d.stop()


def run_penalty(t, work, builddir, policy):
    """Without "nodelay", a denial is an ordinary failed login: Dovecot
    delays the answer (auth_failure_delay) and counts it for the address's
    auth penalty."""
    d = mw.Dovecot(work, builddir, policy, name="penalty", nodelay=False,
                   failure_delay="2s")
    try:
        d.start()
        ac = mw.AuthClient(d.auth_socket())
        start = time.time()
        res, _ = ac.auth("PLAIN", rip="127.0.0.3", secured="tls")
        spent = time.time() - start
        ac.close()
        t.ok(res == "FAIL" and spent >= 1.0,
             "without nodelay a denial waits auth_failure_delay "
             "(%.1f s)" % spent)
    finally:
        d.stop()


if __name__ == "__main__":
    sys.exit(main())
