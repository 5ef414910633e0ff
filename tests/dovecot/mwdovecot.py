"""Helpers for the Dovecot integration tests, benchmark and demo.

Everything runs inside a private network and mount namespace (see
test-dovecot.sh): loopback with extra addresses, a test /etc/hosts and
/etc/resolv.conf that point the system resolver at a small DNS server on
127.0.0.1:53, and a private view of Dovecot's auth module directory that
holds the freshly built module.  Nothing outside the namespace changes.
"""

import base64
import contextlib
import hashlib
import hmac
import imaplib
import os
import poplib
import shutil
import signal
import smtplib
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

# Fixed when Dovecot is compiled: no setting moves it.
MODULE_DIR = "/usr/lib/dovecot/modules"

# Ports (issue: 20000-20999).
PORTS = {
    "imap": 20143, "imaps": 20993,
    "pop3": 20110, "pop3s": 20995,
    "submission": 20587, "smtp_relay": 20025,
}

USER = "alice"
PASSWORD = "Wire-Secret-7351"


class Tap:
    """TAP output: "ok N - description" / "not ok N - description"."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, desc, detail=None):
        self.n += 1
        if cond:
            print("ok %d - %s" % (self.n, desc), flush=True)
        else:
            self.failed += 1
            print("not ok %d - %s" % (self.n, desc), flush=True)
            if detail is not None:
                for line in str(detail).splitlines()[-15:]:
                    print("#   " + line, flush=True)
        return cond

    def diag(self, text):
        for line in str(text).splitlines():
            print("# " + line, flush=True)

    def done(self):
        print("1..%d" % self.n, flush=True)
        return 1 if self.failed else 0


def guarded(t, func, *args):
    """A client error ends a group of cases as one failure, and the
    remaining groups still run."""
    try:
        func(*args)
    except Exception:
        t.ok(False, "%s ended early" % func.__name__,
             traceback.format_exc())


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, **kw).stdout


# --- the namespace -----------------------------------------------------------

V6_CLIENTS = ["2001:db8:1::5", "2001:db8:9::5", "2001:db8:2::20"]


def setup_namespace(workdir, builddir):
    """Loopback, resolver files and module directory of this namespace.
    Must run as root inside "unshare -n -m"."""
    run(["ip", "link", "set", "lo", "up"])
    for addr in V6_CLIENTS:
        run(["ip", "-6", "addr", "add", addr + "/128", "dev", "lo",
             "nodad"])
    # Mounts made here must not propagate back to the parent namespace.
    run(["mount", "--make-rprivate", "/"])
    etc = os.path.join(workdir, "etc")
    os.makedirs(etc, exist_ok=True)
    files = {
        "hosts": "127.0.0.1 localhost\n::1 localhost\n",
        "resolv.conf": "nameserver 127.0.0.1\noptions timeout:5 attempts:1\n",
        "host.conf": "multi on\n",
    }
    for name, text in files.items():
        path = os.path.join(etc, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o644)
        run(["mount", "--bind", path, "/etc/" + name])
    private_module_dir(workdir, builddir)


# The modules under test, by the subdirectory of MODULE_DIR that Dovecot
# loads them from: the passdb (auth) and, on 2.4, the settings module that
# makes the config process accept the passdb's settings.
def _modules_under_test():
    mods = {"auth": ["libauthdb_mailward.so"]}
    if DOVECOT_24:
        mods["settings"] = ["libmailward_settings.so"]
    return mods


def private_module_dir(workdir, builddir):
    """Gives this mount namespace copies of the module directories that
    Dovecot loads the modules under test from, with them added.  Nothing
    outside the namespace sees them.  (Copies, not a bind mount of the
    system's directory: the work directory is removed with rm -rf.)"""
    under_test = _modules_under_test()
    if any(not os.path.isdir(os.path.join(MODULE_DIR, sub))
           for sub in under_test):
        # no directory to mount over: a copy of the whole tree then
        mounts = {"": os.path.join(workdir, "modules")}
        shutil.copytree(MODULE_DIR, mounts[""], symlinks=True)
    else:
        mounts = {sub: os.path.join(workdir, "modules-" + sub)
                  for sub in under_test}
        for sub, copy in mounts.items():
            shutil.copytree(os.path.join(MODULE_DIR, sub), copy,
                            symlinks=True)
    for sub, names in under_test.items():
        top = mounts.get(sub) or os.path.join(mounts[""], sub)
        os.makedirs(top, exist_ok=True)
        for name in names:
            shutil.copy(os.path.join(builddir, "dovecot-plugin", name), top)
        os.chmod(top, 0o755)
    for sub, copy in mounts.items():
        run(["mount", "--bind", copy, os.path.join(MODULE_DIR, sub)])


# --- certificates --------------------------------------------------------------

def make_certs(d):
    """A CA, a server certificate, a client certificate from the CA and
    one self-signed client certificate the server does not trust."""
    os.makedirs(d, exist_ok=True)

    def ossl(*args):
        run(["openssl"] + list(args))

    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=mailward test CA", "-keyout", d + "/ca.key",
         "-out", d + "/ca.pem",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    for name, cn in (("server", "mail.test"), ("client", USER)):
        ossl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + cn,
             "-keyout", "%s/%s.key" % (d, name),
             "-out", "%s/%s.csr" % (d, name))
        ext = "%s/%s.ext" % (d, name)
        with open(ext, "w") as f:
            if name == "server":
                f.write("subjectAltName=DNS:mail.test,IP:127.0.0.1,IP:::1\n"
                        "extendedKeyUsage=serverAuth\n")
            else:
                f.write("extendedKeyUsage=clientAuth\n")
        ossl("x509", "-req", "-in", "%s/%s.csr" % (d, name),
             "-CA", d + "/ca.pem", "-CAkey", d + "/ca.key",
             "-CAcreateserial", "-days", "2", "-extfile", ext,
             "-out", "%s/%s.pem" % (d, name))
    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=rogue", "-keyout", d + "/rogue.key",
         "-out", d + "/rogue.pem")
    for f in os.listdir(d):
        os.chmod(os.path.join(d, f), 0o644)


# --- a DNS server for the resolver path -----------------------------------------

def _ptr_name(addr):
    if ":" in addr:
        packed = socket.inet_pton(socket.AF_INET6, addr)
        nibbles = packed.hex()[::-1]
        return ".".join(nibbles) + ".ip6.arpa"
    return ".".join(reversed(addr.split("."))) + ".in-addr.arpa"


class DnsServer:
    """Answers PTR, A and AAAA from a table, NXDOMAIN otherwise; can
    answer late or never, and counts the questions it gets."""

    def __init__(self, addr="127.0.0.1", port=53):
        self.ptr = {}       # reverse name -> host
        self.addrs = {}     # (host, qtype) -> [address]
        self.delay = {}     # question name -> seconds (None: never)
        self.queries = []   # (name, qtype)
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((addr, port))
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def add_host(self, addr, ptr_host=None, forward=None, delay=0):
        """addr's PTR is ptr_host, which resolves to forward (default:
        addr itself)."""
        rname = _ptr_name(addr)
        self.ptr[rname] = ptr_host
        if delay != 0:
            self.delay[rname] = delay
        for a in (forward or [addr]):
            qtype = 28 if ":" in a else 1
            self.addrs.setdefault((ptr_host.lower(), qtype), []).append(a)

    def count(self, name=None, addr=None):
        if addr is not None:
            name = _ptr_name(addr)
        with self.lock:
            return sum(1 for n, _ in self.queries if n == name.lower())

    def reset_counts(self):
        with self.lock:
            self.queries.clear()

    def _serve(self):
        while True:
            try:
                data, peer = self.sock.recvfrom(2048)
            except OSError:
                return
            try:
                self._answer(data, peer)
            except Exception as e:  # a bad packet must not stop the server
                print("# dns server: %s" % e, file=sys.stderr)

    def _answer(self, data, peer):
        qid, flags, qd = struct.unpack("!HHH", data[:6])
        pos, labels = 12, []
        while data[pos] != 0:
            n = data[pos]
            labels.append(data[pos + 1:pos + 1 + n].decode())
            pos += n + 1
        qname = ".".join(labels).lower()
        qtype, qclass = struct.unpack("!HH", data[pos + 1:pos + 5])
        question = data[12:pos + 5]
        with self.lock:
            self.queries.append((qname, qtype))
        answers = []
        rcode = 3
        if qtype == 12 and self.ptr.get(qname):
            rcode = 0
            answers.append((12, _encode_name(self.ptr[qname])))
        elif qtype in (1, 28):
            ips = self.addrs.get((qname, qtype))
            known = any(k[0] == qname for k in self.addrs)
            if ips:
                rcode = 0
                fam = socket.AF_INET if qtype == 1 else socket.AF_INET6
                answers = [(qtype, socket.inet_pton(fam, ip)) for ip in ips]
            elif known:
                rcode = 0   # the name exists, without this record type
        reply = struct.pack("!HHHHHH", qid, 0x8180 | rcode, 1,
                            len(answers), 0, 0) + question
        for rtype, rdata in answers:
            reply += struct.pack("!HHHIH", 0xC00C, rtype, 1, 60,
                                 len(rdata)) + rdata
        delay = self.delay.get(qname, 0)
        if delay is None:
            return
        if delay:
            threading.Timer(delay, self.sock.sendto, (reply, peer)).start()
        else:
            self.sock.sendto(reply, peer)


def _encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


# --- the private Dovecot --------------------------------------------------------
#
# Dovecot 2.3 and 2.4 differ in the names and the shape of many settings;
# every configuration the tests write is made here, for the Dovecot that
# is installed, so that a test names what it wants, not how a version
# spells it.

def dovecot_version():
    """(major, minor) of the installed Dovecot."""
    out = subprocess.run(["dovecot", "--version"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True).stdout
    fields = (out.split() or ["0.0"])[0].split(".")
    return int(fields[0]), int(fields[1])


DOVECOT_VERSION = dovecot_version()
DOVECOT_24 = DOVECOT_VERSION >= (2, 4)


def conf_header():
    """2.4 refuses a configuration that does not start by saying which
    version's defaults and syntax it was written for."""
    if not DOVECOT_24:
        return ""
    return ("dovecot_config_version = 2.4.0\n"
            "dovecot_storage_version = 2.4.0\n")


def conf_passdb_mailward(policy, nodelay=False, quiet=False):
    if DOVECOT_24:
        return ("passdb mailward {\n"
                "  mailward_policy = %s\n"
                "  mailward_nodelay = %s\n"
                "  mailward_quiet = %s\n"
                "}\n" % (policy, "yes" if nodelay else "no",
                         "yes" if quiet else "no"))
    args = " ".join([w for w, on in (("nodelay", nodelay),
                                     ("quiet", quiet)) if on] + [policy])
    return "passdb {\n  driver = mailward\n  args = %s\n}\n" % args


def conf_passdb_passwd_file(path):
    """A passwd-file with cleartext passwords."""
    if DOVECOT_24:
        return ("passdb passwd-file {\n"
                "  passwd_file_path = %s\n"
                "  default_password_scheme = PLAIN\n"
                "}\n" % path)
    return ("passdb {\n  driver = passwd-file\n"
            "  args = scheme=PLAIN %s\n}\n" % path)


def conf_passdb_noauthenticate():
    """A passdb that only says "go on", as mailward's does when it allows:
    the floor under any policy passdb (the benchmark's baseline)."""
    if DOVECOT_24:
        return ("passdb static {\n"
                "  fields {\n    noauthenticate = yes\n  }\n"
                "}\n")
    return "passdb {\n  driver = static\n  args = noauthenticate\n}\n"


def conf_userdb_static(home):
    """Every user is the dovecot user, with home under home (a directory
    per user on 2.3, one for all on 2.4, which has no %-letters)."""
    if DOVECOT_24:
        return ("userdb static {\n  fields {\n"
                "    uid = dovecot\n    gid = dovecot\n"
                "    home = %s/%%{user | username}\n"
                "  }\n}\n" % home)
    return ("userdb {\n  driver = static\n"
            "  args = uid=dovecot gid=dovecot home=%s/%%n\n}\n" % home)


def conf_mail_maildir():
    if DOVECOT_24:
        return "mail_driver = maildir\nmail_path = ~/Maildir\n"
    return "mail_location = maildir:~/Maildir\n"


def conf_cleartext(allowed):
    """Dovecot's own rule for cleartext mechanisms outside TLS."""
    if DOVECOT_24:
        return "auth_allow_cleartext = %s\n" % ("yes" if allowed else "no")
    return "disable_plaintext_auth = %s\n" % ("no" if allowed else "yes")


def conf_ssl_server(certs, verify_client=True):
    """The server's certificate from certs (see make_certs), and client
    certificates asked for and checked against its CA."""
    if DOVECOT_24:
        text = ("ssl_server_cert_file = {c}/server.pem\n"
                "ssl_server_key_file = {c}/server.key\n"
                "ssl_server_ca_file = {c}/ca.pem\n"
                "ssl_server_request_client_cert = {v}\n"
                "ssl_server_require_crl = no\n")
    else:
        text = ("ssl_cert = <{c}/server.pem\n"
                "ssl_key = <{c}/server.key\n"
                "ssl_ca = <{c}/ca.pem\n"
                "ssl_verify_client_cert = {v}\n"
                "ssl_require_crl = no\n")
    return text.format(c=certs, v="yes" if verify_client else "no")


def conf_login_plugin(plugin_dir, plugin="mailward_login"):
    if DOVECOT_24:
        return ("login_plugin_dir = %s\n"
                "login_plugins {\n  %s = yes\n}\n" % (plugin_dir, plugin))
    return "login_plugin_dir = %s\nlogin_plugins = %s\n" % (plugin_dir,
                                                           plugin)


def conf_import_environment(env):
    """Environment for Dovecot's processes: TZ (as by default) and env,
    a dict."""
    if DOVECOT_24:
        lines = ["import_environment {", "  TZ = %{env:TZ}"]
        lines += ["  %s = %s" % kv for kv in env.items()]
        return "\n".join(lines) + "\n}\n"
    return "import_environment = %s\n" % " ".join(
        ["TZ"] + ["%s=%s" % kv for kv in env.items()])


def conf_service(name, executable=None, unlimited_memory=False,
                 never_idle_kill=False, process_min_avail=None):
    """A service { } block that changes how Dovecot runs a service."""
    lines = ["service %s {" % name]
    if executable is not None:
        lines.append("  executable = %s" % executable)
    if unlimited_memory:
        lines.append("  vsz_limit = %s" % ("unlimited" if DOVECOT_24
                                           else "0"))
    if never_idle_kill:
        lines.append("  %s = 4294967295 secs" % (
            "idle_kill_interval" if DOVECOT_24 else "idle_kill"))
    if process_min_avail is not None:
        lines.append("  process_min_avail = %d" % process_min_avail)
    return "\n".join(lines) + "\n}\n"


def conf_unix_listener(service, path, mode="0666"):
    """service { unix_listener } at an absolute path."""
    return ("service %s {\n  unix_listener %s {\n    mode = %s\n"
            "  }\n}\n" % (service, path, mode))


CONF_TEMPLATE = """\
{header}# private test instance: nothing here touches the system Dovecot
base_dir = {run}
state_dir = {state}
instance_name = mailward-test
log_path = {log}
protocols = imap pop3 submission
listen = 127.0.0.1 ::1
shutdown_clients = yes
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull

ssl = yes
{ssl}ssl_min_protocol = TLSv1.2
ssl_cipher_list = ALL:!aNULL:!eNULL:!kRSA
# the policy decides about cleartext, not this setting
{cleartext}auth_mechanisms = plain login cram-md5 scram-sha-256
auth_failure_delay = {failure_delay}
auth_verbose = yes
{login_plugin}{import_environment}{passdb_mailward}{extra_passdb}{passdb}{userdb}{mail}first_valid_uid = 1
submission_relay_host = 127.0.0.1
submission_relay_port = {smtp_relay}
hostname = mail.test
{metrics}
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = {imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = {pop3s}
    ssl = yes
  }}
}}
service submission-login {{
  inet_listener submission {{
    port = {submission}
  }}
}}
{extra}
"""


class Dovecot:
    """A private Dovecot for IMAP, POP3 and submission on loopback.

    module / login_plugin: load mailward's passdb / login plugin;
    nodelay, quiet: the passdb's options; extra_passdb: a passdb that
    only says "go on" before the passwd-file (the benchmark's floor);
    env: more import_environment; extra: configuration text appended
    (make it with the conf_* functions); stanza: text that replaces the
    mailward passdb and login plugin settings (for testing the ones the
    documentation shows)."""

    def __init__(self, workdir, builddir, policy, name="dovecot",
                 module=True, login_plugin=True, nodelay=True,
                 failure_delay="0", extra="", metrics="", cpus=None,
                 quiet=False, extra_passdb=False, env=None, stanza=None):
        self.dir = os.path.join(workdir, name)
        self.cpus = cpus
        self.policy = policy
        self.proc = None
        for sub in ("run", "state", "home"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        shutil.chown(os.path.join(self.dir, "home"), "dovecot", "dovecot")
        os.chmod(self.dir, 0o755)
        self.log = os.path.join(self.dir, "dovecot.log")
        self.passwd = os.path.join(self.dir, "passwd")
        with open(self.passwd, "w") as f:
            f.write("%s:%s\n" % (USER, PASSWORD))
        os.chmod(self.passwd, 0o644)
        login = ""
        if login_plugin:
            login = conf_login_plugin(os.path.abspath(
                os.path.join(builddir, "dovecot-plugin")))
        passdb = ""
        if module:
            passdb = conf_passdb_mailward(policy, nodelay=nodelay,
                                          quiet=quiet)
        if stanza is not None:
            login, passdb = "", stanza
        environment = dict(env or {})
        home = os.path.join(self.dir, "home")
        self.conf = os.path.join(self.dir, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write(CONF_TEMPLATE.format(
                header=conf_header(),
                run=os.path.join(self.dir, "run"),
                state=os.path.join(self.dir, "state"),
                log=self.log,
                ssl=conf_ssl_server(os.path.join(workdir, "certs")),
                cleartext=conf_cleartext(True),
                login_plugin=login,
                import_environment=conf_import_environment(environment),
                passdb_mailward=passdb,
                extra_passdb=conf_passdb_noauthenticate()
                if extra_passdb else "",
                passdb=conf_passdb_passwd_file(self.passwd),
                userdb=conf_userdb_static(home),
                mail=conf_mail_maildir(),
                failure_delay=failure_delay, extra=extra,
                metrics=metrics, **PORTS))

    def start(self, timeout=15):
        open(self.log, "w").close()
        # a socket left by an earlier instance would look like readiness
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.auth_socket())
        cpus = self.cpus
        self.proc = subprocess.Popen(
            ["dovecot", "-F", "-c", self.conf], stdout=subprocess.DEVNULL,
            stderr=open(self.log + ".stderr", "w"),
            preexec_fn=None if cpus is None else
            lambda: os.sched_setaffinity(0, cpus))
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("dovecot exited: %s" % self.read_log())
            try:
                socket.create_connection(("127.0.0.1", PORTS["imap"]),
                                         0.2).close()
                socket.create_connection(("127.0.0.1", PORTS["submission"]),
                                         0.2).close()
                if os.path.exists(self.auth_socket()):
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("dovecot did not start: %s" % self.read_log())

    def _children(self, pid):
        kids = []
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % p) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                kids.append(int(p))
                kids += self._children(int(p))
        return kids

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        kids = self._children(self.proc.pid)
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for pid in kids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc = None

    def read_log(self):
        text = ""
        for path in (self.log, self.log + ".stderr"):
            with contextlib.suppress(OSError), open(path) as f:
                text += f.read()
        return text

    def log_mark(self):
        return os.path.getsize(self.log)

    def log_since(self, mark):
        with open(self.log) as f:
            f.seek(mark)
            return f.read()

    def wait_log(self, mark, needle, timeout=5):
        deadline = time.time() + timeout
        while time.time() < deadline:
            text = self.log_since(mark)
            if needle in text:
                return text
            time.sleep(0.05)
        return self.log_since(mark)

    def auth_socket(self):
        return os.path.join(self.dir, "run", "auth-client")

    def doveadm(self, *args):
        return subprocess.run(["doveadm", "-c", self.conf] + list(args),
                              stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)


# --- clients -------------------------------------------------------------------------

def client_context(cert=None, ciphers=None, max_tls12=False):
    ctx = ssl.create_default_context(cafile=None)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if cert is not None:
        ctx.load_cert_chain(cert + ".pem", cert + ".key")
    if max_tls12:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if ciphers is not None:
        ctx.set_ciphers(ciphers)
    return ctx


def _connect(host, port, source, timeout):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.bind((source, 0))
    sock.connect((host, port))
    return sock


class IMAP(imaplib.IMAP4):
    """imaplib from a chosen source address."""

    def __init__(self, source, port=PORTS["imap"], host="127.0.0.1",
                 timeout=10):
        self.source = source
        super().__init__(host, port, timeout)

    def _create_socket(self, timeout):
        return _connect(self.host, self.port, self.source, timeout)


class IMAPS(imaplib.IMAP4_SSL):
    def __init__(self, source, port=PORTS["imaps"], host="127.0.0.1",
                 context=None, timeout=10):
        self.source = source
        super().__init__(host, port, ssl_context=context or client_context(),
                         timeout=timeout)

    def _create_socket(self, timeout):
        sock = _connect(self.host, self.port, self.source, timeout)
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)


class POP3(poplib.POP3):
    def __init__(self, source, port=PORTS["pop3"], host="127.0.0.1",
                 timeout=10):
        self.source = source
        super().__init__(host, port, timeout)

    def _create_socket(self, timeout):
        return _connect(self.host, self.port, self.source, timeout)


class POP3S(poplib.POP3_SSL):
    def __init__(self, source, port=PORTS["pop3s"], host="127.0.0.1",
                 context=None, timeout=10):
        self.source = source
        super().__init__(host, port, context=context or client_context(),
                         timeout=timeout)

    def _create_socket(self, timeout):
        sock = _connect(self.host, self.port, self.source, timeout)
        return self.context.wrap_socket(sock, server_hostname=self.host)


def smtp(source, port=PORTS["submission"], host="127.0.0.1"):
    return smtplib.SMTP(host, port, local_hostname="client.test",
                        timeout=10, source_address=(source, 0))


def imap_caps(source, starttls=False, context=None):
    """The capabilities after the greeting (and after STARTTLS)."""
    c = IMAP(source)
    try:
        if starttls:
            c.starttls(context or client_context())
        typ, data = c.capability()
        return set(data[0].decode().upper().split())
    finally:
        with contextlib.suppress(Exception):
            c.logout()


def imap_login(source, mode="plain", mech="LOGIN", context=None,
               password=PASSWORD):
    """Returns (True, text) for a successful login, (False, why) else."""
    try:
        if mode == "imaps":
            c = IMAPS(source, context=context)
        else:
            c = IMAP(source)
            if mode == "starttls":
                c.starttls(context or client_context())
    except (imaplib.IMAP4.abort, imaplib.IMAP4.error, OSError) as e:
        return False, "connect: %s" % e
    try:
        if mech == "LOGIN":
            typ, data = c.login(USER, password)
        elif mech == "CRAM-MD5":
            typ, data = c.login_cram_md5(USER, password)
        elif mech == "PLAIN":
            typ, data = c.authenticate(
                "PLAIN", lambda _: ("\0%s\0%s" % (USER, password)).encode())
        elif mech == "SCRAM-SHA-256":
            typ, data = c.authenticate("SCRAM-SHA-256",
                                       ScramClient(USER, password))
        else:
            raise ValueError(mech)
        return typ == "OK", b" ".join(data).decode(errors="replace")
    except (imaplib.IMAP4.error, imaplib.IMAP4.abort, OSError) as e:
        return False, str(e)
    finally:
        with contextlib.suppress(Exception):
            c.logout()


def imap_greeting(source, port=PORTS["imap"]):
    """The first line the server sends on port (IMAP by default), or ""
    if it closes at once."""
    sock = _connect("127.0.0.1" if ":" not in source else "::1", port,
                    source, 10)
    try:
        data = b""
        while not data.endswith(b"\n"):
            chunk = sock.recv(1024)
            if not chunk:
                break
            data += chunk
        return data.decode(errors="replace").strip()
    finally:
        sock.close()


class ScramClient:
    """SCRAM-SHA-256 for imaplib.authenticate() (RFC 5802/7677)."""

    def __init__(self, user, password):
        self.user, self.password = user, password
        self.nonce = base64.b64encode(os.urandom(18)).decode()
        self.step = 0

    def __call__(self, challenge):
        self.step += 1
        if self.step == 1:
            self.bare = "n=%s,r=%s" % (self.user, self.nonce)
            return ("n,," + self.bare).encode()
        if self.step == 2:
            server_first = challenge.decode()
            attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
            salt = base64.b64decode(attrs["s"])
            salted = hashlib.pbkdf2_hmac("sha256", self.password.encode(),
                                         salt, int(attrs["i"]))
            client_key = hmac.new(salted, b"Client Key", "sha256").digest()
            stored = hashlib.sha256(client_key).digest()
            final_bare = "c=biws,r=" + attrs["r"]
            auth_msg = ",".join((self.bare, server_first, final_bare))
            sig = hmac.new(stored, auth_msg.encode(), "sha256").digest()
            proof = bytes(a ^ b for a, b in zip(client_key, sig))
            return (final_bare + ",p=" +
                    base64.b64encode(proof).decode()).encode()
        return b""


# --- Dovecot's auth-client protocol ---------------------------------------------------

class AuthClient:
    """The protocol the login processes speak to the auth process: it lets
    a test choose every fact (service, rip, secured, mechanism) and drive
    the credentials path (CRAM-MD5, SCRAM) without a login process."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.buf = b""
        self.id = 0
        self.sock.sendall(b"VERSION\t1\t2\nCPID\t%d\n" % os.getpid())
        while self._line() != "DONE":
            pass

    def _line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("auth process closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def auth(self, mech, service="imap", rip="127.0.0.2",
             lip="127.0.0.1", secured=None, extra=(),
             user=USER, password=PASSWORD):
        """Returns (result, fields): result "OK", "FAIL"."""
        self.id += 1
        args = ["AUTH", str(self.id), mech, "service=" + service,
                "lip=" + lip, "rip=" + rip, "nologin"]
        if secured:
            args.append("secured" if secured is True else "secured=" + secured)
        args += list(extra)
        if mech == "PLAIN":
            resp = base64.b64encode(("\0%s\0%s" % (user, password)).encode())
            args.append("resp=" + resp.decode())
        scram = ScramClient(user, password) if mech.startswith("SCRAM") \
            else None
        if scram is not None:
            args.append("resp=" +
                        base64.b64encode(scram(b"")).decode())
        self.sock.sendall(("\t".join(args) + "\n").encode())
        while True:
            parts = self._line().split("\t")
            if parts[0] == "CONT":
                challenge = base64.b64decode(parts[2]) if len(parts) > 2 \
                    else b""
                if mech == "CRAM-MD5":
                    digest = hmac.new(password.encode(), challenge,
                                      "md5").hexdigest()
                    answer = ("%s %s" % (user, digest)).encode()
                elif scram is not None:
                    answer = scram(challenge)
                else:
                    raise ValueError("unexpected CONT for " + mech)
                self.sock.sendall(("CONT\t%s\t%s\n" % (
                    parts[1], base64.b64encode(answer).decode())).encode())
                continue
            fields = dict(p.split("=", 1) if "=" in p else (p, "")
                          for p in parts[2:])
            return parts[0], fields

    def close(self):
        self.sock.close()


def tcpdump_start(path, port):
    # --immediate-mode: without it libpcap hands over packets in blocks,
    # and the ones still in the kernel's buffer at SIGINT are lost
    proc = subprocess.Popen(["tcpdump", "--immediate-mode", "-i", "lo",
                             "-U", "-s", "0", "-w",
                             path, "tcp", "port", str(port)],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    # tcpdump says "listening on" before its filter is in place: give
    # it a moment more, or the first packets are lost
    proc.stderr.readline()
    time.sleep(1)
    return proc


def tcpdump_stop(proc):
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    proc.wait(10)


def capture_payload(path):
    """All TCP payload bytes of a capture, read back with tshark."""
    out = subprocess.run(["tshark", "-r", path, "-T", "fields", "-e",
                          "tcp.payload"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True).stdout
    data = b""
    for line in out.split():
        data += bytes.fromhex(line.replace(":", ""))
    return data


def workdir():
    d = tempfile.mkdtemp(prefix="mw-dovecot.")
    os.chmod(d, 0o755)
    return d


def write_policy(path, text):
    """A policy file that the unprivileged login processes can read."""
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)


def pop3_userpass(source, stls=False):
    """POP3 USER/PASS (after STLS if stls); the answer to PASS, or the
    error."""
    p = POP3(source)
    try:
        if stls:
            p.stls(client_context())
        p.user(USER)
        return p.pass_(PASSWORD).decode()
    except poplib.error_proto as e:
        return str(e)
    finally:
        with contextlib.suppress(Exception):
            p.quit()


def test_setup():
    """A test driver's start: the build directory, a new work directory
    with this namespace's loopback, resolver files and modules set up,
    and test certificates in work/certs.  Returns (builddir, work)."""
    builddir = os.environ.get("MW_BUILDDIR", "build")
    work = workdir()
    setup_namespace(work, builddir)
    make_certs(os.path.join(work, "certs"))
    return builddir, work


def smtp_plain(source, starttls=False, context=None):
    """AUTH PLAIN, which carries the password (smtplib's login() would
    take CRAM-MD5, which never shows it).  starttls: True, False, or
    "unless-offered" (only if PLAIN is not offered in the clear).
    Returns (235 or the error, the AUTH mechanisms offered first)."""
    s = smtp(source)
    try:
        s.ehlo("client.test")
        offered = s.esmtp_features.get("auth", "").upper().split()
        if starttls is True or (starttls == "unless-offered" and
                                "PLAIN" not in offered):
            s.starttls(context=context or client_context())
            s.ehlo("client.test")
        s.user, s.password = USER, PASSWORD
        return s.auth("PLAIN", s.auth_plain)[0], offered
    except smtplib.SMTPException as e:
        return str(e), offered
    finally:
        with contextlib.suppress(Exception):
            s.quit()


def test_done(t, work):
    """A test driver's end: the work directory is kept when a test
    failed, for looking into it.  Returns the exit status."""
    if t.failed:
        t.diag("work directory kept: " + work)
    else:
        subprocess.run(["rm", "-rf", work])
    return t.done()
