"""Reads the output of several bench_dovecot.py runs (LABEL=FILE
arguments, one per Dovecot version) and prints mailward's overhead for
each side by side: the login rates through the auth-client socket,
Dovecot's CPU time per login, and the overhead beyond the floor that
Dovecot charges for any extra passdb."""

import re
import sys

RATE = re.compile(r"^  (\S.*?)\s+(\d+) logins/s(?:\s+overhead\s+([+-]\s*[\d.]+)%)?")
FLOOR = re.compile(r"^  (\S.*?)\s+overhead beyond Dovecot's extra-passdb "
                   r"floor: ([+-][\d.]+)%")
CPU = re.compile(r"^  (\S.*?)\s+([\d.]+) us(?:\s+overhead\s+([+-]\s*[\d.]+)%)?")
VERSION = re.compile(r"^Dovecot (\S+),")


def parse(path):
    run = {"version": "?", "rate": {}, "cpu": {}, "floor": {}}
    section = "rate"
    with open(path, errors="replace") as f:
        for line in f:
            m = VERSION.match(line)
            if m:
                run["version"] = m.group(1)
            if line.startswith("Dovecot's CPU time"):
                section = "cpu"
            elif line.startswith("IMAP logins"):
                section = "imap"
            m = FLOOR.match(line)
            if m and section == "rate":
                run["floor"][m.group(1)] = float(m.group(2))
                continue
            m = (RATE if section == "rate" else CPU).match(line) \
                if section in ("rate", "cpu") else None
            if m:
                over = m.group(3)
                run[section][m.group(1)] = (
                    float(m.group(2)),
                    float(over.replace(" ", "")) if over else None)
    return run


def cell(value, over, unit):
    text = "%.0f%s" % (value, unit) if unit == "/s" else \
        "%.1f%s" % (value, unit)
    if over is not None:
        text += " (%+.1f%%)" % over
    return text


def main():
    runs = []
    for arg in sys.argv[1:]:
        label, path = arg.split("=", 1)
        runs.append((label.replace("_", " "), parse(path)))
    if not runs or not runs[0][1]["rate"]:
        print("bench: no Dovecot benchmark figures to compare")
        return 1
    width = 30
    col = 28
    print("mailward's Dovecot overhead, side by side (overhead against "
          "\"without mailward\" in the same run):")
    print("  %-*s" % (width, "") + "".join(
        "%-*s" % (col, "%s (Dovecot %s)" % (label, run["version"]))
        for label, run in runs))
    names = list(runs[0][1]["rate"])
    print("  logins/s through the auth-client socket")
    for name in names:
        print("    %-*s" % (width - 2, name) + "".join(
            "%-*s" % (col, cell(*run["rate"][name], "/s")
                      if name in run["rate"] else "-")
            for _, run in runs))
    print("  Dovecot's CPU time per login")
    for name in names:
        print("    %-*s" % (width - 2, name) + "".join(
            "%-*s" % (col, cell(*run["cpu"][name], " us")
                      if name in run["cpu"] else "-")
            for _, run in runs))
    print("  overhead beyond Dovecot's extra-passdb floor (logins/s)")
    for name in runs[0][1]["floor"]:
        print("    %-*s" % (width - 2, name) + "".join(
            "%-*s" % (col, "%+.1f%%" % run["floor"][name]
                      if name in run["floor"] else "-")
            for _, run in runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
