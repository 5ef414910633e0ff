"""The README's demo: the seed's three IMAP4 levels on a running Dovecot.

Starts a private Dovecot with the mailward passdb and login plugin (inside
the namespace that demo.sh creates), connects from several addresses and
prints what each client saw and the line mailward logged for it.
"""

import os
import sys
import time

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
service imap pop3 {
  deny  net 127.0.0.3
  allow net 127.0.0.0/255.255.255.240
  allow host .contoso.test
  deny  any
  mechanisms   = SCRAM-SHA-256 PLAIN LOGIN
  tls_min_bits = 128
}
service submission {
  allow net 127.0.0.0/8
  deny  any
  tls = required
}
"""


def show(title, result, dovecot, mark, rip):
    print("\n== %s" % title)
    print("   client: %s" % (result,))
    time.sleep(0.2)
    for line in dovecot.log_since(mark).splitlines():
        if "mailward: decision=" in line and " rip=%s " % rip in line:
            print("   log:    " + line.split("mailward: ", 1)[1])


def main():
    builddir = os.environ.get("MW_BUILDDIR", "build")
    work = mw.workdir()
    mw.setup_namespace(work, builddir)
    mw.make_certs(os.path.join(work, "certs"))
    policy = os.path.join(work, "mailward.conf")
    with open(policy, "w") as f:
        f.write(POLICY)
    os.chmod(policy, 0o644)
    dns = mw.DnsServer()
    dns.add_host("127.0.0.20", "mail.contoso.test")
    dns.add_host("127.0.0.21", "spoof.contoso.test", forward=["192.0.2.1"])

    print("policy (%s):" % policy)
    print("   " + POLICY.rstrip().replace("\n", "\n   "))
    d = mw.Dovecot(work, builddir, policy, nodelay=True)
    d.start()
    try:
        mark = d.log_mark()
        show("level 1: 127.0.0.3 is denied: refused before the banner",
             mw.imap_greeting("127.0.0.3"), d, mark, "127.0.0.3")
        mark = d.log_mark()
        show("level 1: 127.0.0.5 is in 127.0.0.0/255.255.255.240",
             mw.imap_greeting("127.0.0.5"), d, mark, "127.0.0.5")
        caps = mw.imap_caps("127.0.0.5")
        print("   CAPABILITY without TLS: %s" % " ".join(sorted(caps)))
        mark = d.log_mark()
        show("level 2: LOGIN without TLS is refused (cleartext = tls-only)",
             mw.imap_login("127.0.0.5", "plain"), d, mark, "127.0.0.5")
        mark = d.log_mark()
        show("level 3: LOGIN after STARTTLS is accepted",
             mw.imap_login("127.0.0.5", "starttls"), d, mark, "127.0.0.5")
        caps = mw.imap_caps("127.0.0.5", starttls=True)
        print("   CAPABILITY after STARTTLS: %s" % " ".join(sorted(caps)))
        mark = d.log_mark()
        show("level 1: 127.0.0.20 = mail.contoso.test, forward-confirmed",
             mw.imap_login("127.0.0.20", "starttls"), d, mark, "127.0.0.20")
        mark = d.log_mark()
        show("level 1: 127.0.0.21 claims spoof.contoso.test, which does not "
             "resolve back", mw.imap_login("127.0.0.21", "starttls"),
             d, mark, "127.0.0.21")
    finally:
        d.stop()
        os.system("rm -rf '%s'" % work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
