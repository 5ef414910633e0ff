"""make bench: what the mailward modules cost a real Dovecot.

Measures successful PLAIN logins per second on the auth process's
auth-client socket (the path every IMAP, POP3 and submission login takes)
with concurrent clients, for the same Dovecot
  - without mailward (passwd-file only),
  - with the mailward passdb and login plugin, address rules only,
  - with host-name rules, the FCrDNS cache warm,
in alternating rounds, and reports the median of each and the overhead.
Full IMAP logins per second (which fork an imap process each) are shown
beside them.  Runs inside "unshare -n -m" like the tests.
"""

import base64
import multiprocessing
import os
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mwdovecot as mw  # noqa: E402

ADDR_POLICY = """\
defaults {
  cleartext = tls-only
}
service imap {
  deny  net 192.0.2.0/24
  allow net 127.0.0.0/8
  deny  any
  mechanisms = PLAIN LOGIN SCRAM-SHA-256
}
"""

HOST_POLICY = """\
dns {
  timeout   = 2s
  cache_ttl = 15m
}
defaults {
  cleartext = tls-only
}
service imap {
  deny  net 192.0.2.0/24
  deny  host .denied.test
  allow host .contoso.test
  deny  any
  mechanisms = PLAIN LOGIN SCRAM-SHA-256
}
"""

CLIENTS = 4          # concurrent auth-client connections
WINDOW = 16          # requests in flight per connection
SECONDS = 2.0        # per measurement
ROUNDS = 5
HOST_ADDRS = ["127.0.0.%d" % i for i in range(20, 28)]


def worker(path, rips, seconds, out, cpus):
    if cpus:
        os.sched_setaffinity(0, cpus)
    ac = mw.AuthClient(path)
    resp = base64.b64encode(("\0%s\0%s" % (mw.USER, mw.PASSWORD))
                            .encode()).decode()
    done = failed = 0
    next_id = 1
    end = time.time() + seconds
    while time.time() < end:
        batch = []
        for _ in range(WINDOW):
            rip = rips[next_id % len(rips)]
            batch.append("AUTH\t%d\tPLAIN\tservice=imap\tlip=127.0.0.1\t"
                         "rip=%s\tsecured=tls\tnologin\tresp=%s\n"
                         % (next_id, rip, resp))
            next_id += 1
        ac.sock.sendall("".join(batch).encode())
        for _ in range(WINDOW):
            if ac._line().startswith("OK\t"):
                done += 1
            else:
                failed += 1
    ac.close()
    out.put((done, failed))


def cpu_seconds(dovecot):
    """CPU time (user + system) used so far by Dovecot's processes."""
    ticks = 0
    for pid in [dovecot.proc.pid] + dovecot._children(dovecot.proc.pid):
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def auth_rate(dovecot, rips, cpus):
    """Logins per second, and Dovecot's CPU time per login in
    microseconds: the second does not depend on what else the machine
    is doing, the first does."""
    out = multiprocessing.Queue()
    cpu_start = cpu_seconds(dovecot)
    procs = [multiprocessing.Process(target=worker, args=(
        dovecot.auth_socket(), rips, SECONDS, out, cpus))
        for _ in range(CLIENTS)]
    start = time.time()
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    elapsed = time.time() - start
    cpu = cpu_seconds(dovecot) - cpu_start
    done = sum(r[0] for r in results)
    failed = sum(r[1] for r in results)
    if failed:
        raise RuntimeError("%d logins failed" % failed)
    return done / elapsed, cpu * 1e6 / done


def imap_rate(n=40, threads=4):
    count = [0]
    lock = threading.Lock()

    def loop(i):
        for _ in range(n // threads):
            ok, _ = mw.imap_login("127.0.0.%d" % (2 + i), "imaps")
            if ok:
                with lock:
                    count[0] += 1

    start = time.time()
    ts = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return count[0] / (time.time() - start)


def split_cpus():
    """Dovecot on one half of the CPUs, the load generator on the other,
    so that the auth process, not the clients, sets the pace."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, None
    half = len(cpus) // 2
    return set(cpus[:half]), set(cpus[half:])


def main():
    server_cpus, client_cpus = split_cpus()
    builddir = os.environ.get("MW_BUILDDIR", "build")
    work = mw.workdir()
    mw.setup_namespace(work, builddir)
    mw.make_certs(os.path.join(work, "certs"))
    dns = mw.DnsServer()
    for addr in HOST_ADDRS:
        dns.add_host(addr, "h%s.contoso.test" % addr.split(".")[-1])
    policies = {}
    for name, text in (("addr", ADDR_POLICY), ("host", HOST_POLICY)):
        policies[name] = os.path.join(work, name + ".conf")
        with open(policies[name], "w") as f:
            f.write(text)
        os.chmod(policies[name], 0o644)

    # "quiet": allowed logins logged at debug level, as a busy site would;
    # denials are still logged at info level.
    setups = {
        "without mailward": dict(policy=policies["addr"], module=False,
                                 login_plugin=False, rips=["127.0.0.2"]),
        "an empty extra passdb": dict(policy=policies["addr"], module=False,
                                      login_plugin=False, extra_passdb=True,
                                      rips=["127.0.0.2"]),
        "mailward, address rules": dict(policy=policies["addr"],
                                        rips=["127.0.0.2"]),
        "mailward, host rules (warm)": dict(policy=policies["host"],
                                            rips=HOST_ADDRS),
    }
    rates = {name: [] for name in setups}
    cpu_per_login = {name: [] for name in setups}
    imap = {}
    for rnd in range(ROUNDS):
        for name, s in setups.items():
            # extra_passdb: what Dovecot itself charges for one more
            # passdb that only says "go on", the floor under any policy
            # passdb
            d = mw.Dovecot(work, builddir, s["policy"], name="bench",
                           module=s.get("module", True),
                           login_plugin=s.get("login_plugin", True),
                           extra_passdb=s.get("extra_passdb", False),
                           extra="", nodelay=True, quiet=True,
                           cpus=server_cpus)
            d.start()
            try:
                # warm-up, and the FCrDNS cache of the host rules
                ac = mw.AuthClient(d.auth_socket())
                for rip in s["rips"]:
                    res, f = ac.auth("PLAIN", rip=rip, secured="tls")
                    if res != "OK":
                        raise RuntimeError("%s: %s" % (name, f))
                ac.close()
                rate, cpu = auth_rate(d, s["rips"], client_cpus)
                rates[name].append(rate)
                cpu_per_login[name].append(cpu)
                if rnd == 0 and name in ("without mailward",
                                         "mailward, address rules"):
                    imap[name] = imap_rate()
            finally:
                d.stop()

    base = statistics.median(rates["without mailward"])
    print("Dovecot %s, %d auth-client connections x %d requests in flight, "
          "%d rounds of %.0f s (median); Dovecot on CPUs %s, clients on %s"
          % (subprocess.run(["dovecot", "--version"], text=True,
                            stdout=subprocess.PIPE).stdout.split()[0],
             CLIENTS, WINDOW, ROUNDS, SECONDS, sorted(server_cpus or []),
             sorted(client_cpus or [])))
    for name, values in rates.items():
        med = statistics.median(values)
        line = "  %-30s %8.0f logins/s" % (name, med)
        if name != "without mailward":
            line += "   overhead %+5.1f%%" % ((base - med) / base * 100)
        print(line + "   (rounds: %s)" % ", ".join("%.0f" % v
                                                     for v in values))
    floor = statistics.median(rates["an empty extra passdb"])
    for name in ("mailward, address rules", "mailward, host rules (warm)"):
        med = statistics.median(rates[name])
        print("  %-30s overhead beyond Dovecot's extra-passdb floor: "
              "%+.1f%%" % (name, (floor - med) / floor * 100))
    print("Dovecot's CPU time per login (all its processes; steadier than "
          "the rates on a shared machine):")
    cpu_base = statistics.median(cpu_per_login["without mailward"])
    cpu_floor = statistics.median(cpu_per_login["an empty extra passdb"])
    for name, values in cpu_per_login.items():
        med = statistics.median(values)
        line = "  %-30s %8.1f us" % (name, med)
        if name != "without mailward":
            line += "   overhead %+5.1f%%" % ((med - cpu_base) / cpu_base * 100)
        if name.startswith("mailward"):
            line += ", beyond the floor %+5.1f%%" % (
                (med - cpu_floor) / cpu_floor * 100)
        print(line)
    print("IMAP logins over TLS, 4 clients (each forks an imap process):")
    for name, value in imap.items():
        print("  %-30s %8.1f logins/s" % (name, value))
    subprocess.run(["rm", "-rf", work])
    return 0


if __name__ == "__main__":
    sys.exit(main())
