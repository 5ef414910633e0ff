"""make bench-dovecot-login: what the login plugin costs a connection,
by the size of the policy.

Login processes map the policy image that the auth process published
(one per connection with Dovecot's default service_count = 1), so the
time to the IMAP banner must not grow with the address lists.  Measured
for the same private Dovecot
  - without mailward,
  - with mailward and a policy of 0, 1,000 and 100,000 list entries,
in interleaved rounds in one run: the banner latency (connect to
"* OK", sequential clients, median and 95th percentile) and full IMAP
logins per second (4 clients, LOGIN on the plain port, each forking an
imap process), with the ratios to the run without mailward.  For scale,
the time "mailward check" takes to parse each policy, which is what a
login process paid per connection before the image.  Runs inside
"unshare -n -m" like the tests.
"""

import ipaddress
import os
import random
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mwdovecot as mw  # noqa: E402

SIZES = [0, 1000, 100000]
ROUNDS = int(os.environ.get("MW_BENCH_ROUNDS", "3"))
BANNERS = int(os.environ.get("MW_BENCH_BANNERS", "150"))  # per round
LOGIN_SECONDS = float(os.environ.get("MW_BENCH_LOGIN_SECONDS", "3"))
LOGIN_THREADS = 4
CLIENT = "127.0.0.2"


def write_list(path, count):
    """count distinct entries, none of them the client's: mostly IPv4
    hosts and /24s, a quarter IPv6 /64s."""
    rnd = random.Random(count)
    seen = set()
    with open(path, "w") as f:
        while len(seen) < count:
            kind = rnd.randrange(8)
            if kind < 2:
                net = "2001:db8:%x:%x::/64" % (rnd.randrange(65536),
                                               rnd.randrange(65536))
            elif kind < 4:
                net = "%d.%d.%d.0/24" % (rnd.randrange(1, 100),
                                         rnd.randrange(256),
                                         rnd.randrange(256))
            else:
                net = str(ipaddress.IPv4Address(rnd.randrange(
                    0x0b000000, 0x64000000)))
            if net not in seen:
                seen.add(net)
                f.write(net + "\n")
    os.chmod(path, 0o644)


def write_policy(work, count):
    path = os.path.join(work, "policy-%d.conf" % count)
    text = "service imap pop3 submission {\n"
    if count:
        lst = os.path.join(work, "list-%d.txt" % count)
        write_list(lst, count)
        text += "  deny  net-list \"%s\"\n" % lst
    text += "  deny  net 192.0.2.0/24\n  allow any\n  cleartext = always\n}\n"
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)
    return path


def banner_latencies(n):
    """Seconds from connect() to the banner's line, n clients one after
    the other."""
    out = []
    for _ in range(n):
        start = time.perf_counter()
        banner = mw.imap_greeting(CLIENT)
        out.append(time.perf_counter() - start)
        if not banner.startswith("* OK"):
            raise RuntimeError("banner: %r" % banner)
    return out


def login_rate(seconds):
    count = [0]
    failed = [0]
    lock = threading.Lock()
    end = time.time() + seconds

    def loop():
        while time.time() < end:
            ok, _ = mw.imap_login(CLIENT)
            with lock:
                if ok:
                    count[0] += 1
                else:
                    failed[0] += 1

    start = time.time()
    ts = [threading.Thread(target=loop) for _ in range(LOGIN_THREADS)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if failed[0]:
        raise RuntimeError("%d logins failed" % failed[0])
    return count[0] / (time.time() - start)


def check_seconds(builddir, policy, n=5):
    """Median time of "mailward check" on policy: one full parse, with
    the process start."""
    tool = os.path.join(builddir, "mailward")
    if not os.access(tool, os.X_OK):
        return None
    times = []
    for _ in range(n):
        start = time.perf_counter()
        subprocess.run([tool, "check", "-c", policy],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def snapshot_costs(builddir, policy):
    """(parse, map, map with every hash) in ms, in one process
    (bench-snapshot), free of the process start-up noise."""
    tool = os.path.join(builddir, "tests", "bench", "bench-snapshot")
    if not os.access(tool, os.X_OK):
        return None
    words = subprocess.run([tool, policy], text=True, check=True,
                           stdout=subprocess.PIPE).stdout.split()
    return float(words[1]), float(words[3]), float(words[5])


def p95(values):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * 0.95))]


def split_cpus():
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None
    return set(cpus[:len(cpus) // 2])


def main():
    server_cpus = split_cpus()
    builddir = os.environ.get("MW_BUILDDIR", "build")
    work = mw.workdir()
    mw.setup_namespace(work, builddir)
    mw.make_certs(os.path.join(work, "certs"))
    policies = {n: write_policy(work, n) for n in SIZES}

    setups = [("without mailward", policies[0], False)]
    setups += [("mailward, %d entries" % n, policies[n], True)
               for n in SIZES]
    lat = {name: [] for name, _, _ in setups}
    rates = {name: [] for name, _, _ in setups}
    snap_size = {}
    for _ in range(ROUNDS):
        for name, policy, plugin in setups:
            d = mw.Dovecot(work, builddir, policy, name="bench",
                           module=plugin, login_plugin=plugin, quiet=True,
                           cpus=server_cpus)
            d.start()
            try:
                banner_latencies(10)  # warm-up: auth process started
                snap = os.path.join(d.dir, "run", "login",
                                    "mailward-policy.snap")
                if plugin:
                    snap_size[name] = os.path.getsize(snap)
                lat[name] += banner_latencies(BANNERS)
                rates[name].append(login_rate(LOGIN_SECONDS))
            finally:
                d.stop()

    version = subprocess.run(["dovecot", "--version"], text=True,
                             stdout=subprocess.PIPE).stdout.split()[0]
    print("Dovecot %s: IMAP banner latency (%d sequential clients x %d "
          "rounds) and IMAP logins/s (%d clients, %.0f s x %d rounds, "
          "median); one login process per connection; Dovecot on CPUs %s"
          % (version, BANNERS, ROUNDS, LOGIN_THREADS, LOGIN_SECONDS, ROUNDS,
             sorted(server_cpus or [])))
    base = lat["without mailward"]
    base_med, base_p95 = statistics.median(base), p95(base)
    base_rate = statistics.median(rates["without mailward"])
    print("  %-28s %9s %9s %10s %8s %8s %8s %10s" % (
        "", "median", "p95", "logins/s", "median", "p95", "logins",
        "image"))
    for name, policy, plugin in setups:
        med, q95 = statistics.median(lat[name]), p95(lat[name])
        rate = statistics.median(rates[name])
        print("  %-28s %7.2fms %7.2fms %10.1f %7.2fx %7.2fx %7.2fx %10s" % (
            name, med * 1e3, q95 * 1e3, rate, med / base_med, q95 / base_p95,
            rate / base_rate,
            "%d KB" % (snap_size[name] // 1024) if plugin else "-"))
    print("  (ratios to the run without mailward; goal at 100,000 entries: "
          "median latency within 1.10x)")
    print("Per policy, in one process (best of 5): parsing it, what a "
          "login process paid per connection before the image; mapping "
          "the image as a login process does; mapping it with every hash "
          "checked, as the auth process does; and \"mailward check\" "
          "(with its process start, median of 5):")
    print("  %-28s %9s %9s %11s %9s" % ("", "parse", "map", "map+verify",
                                         "check"))
    for n in SIZES:
        costs = snapshot_costs(builddir, policies[n])
        secs = check_seconds(builddir, policies[n])
        print("  %-28s %7.3fms %7.3fms %9.3fms %7.2fms" % (
            "%d entries" % n, costs[0], costs[1], costs[2],
            secs * 1e3 if secs is not None else float("nan")))
    subprocess.run(["rm", "-rf", work])
    return 0


if __name__ == "__main__":
    sys.exit(main())
