#!/usr/bin/python3
"""expect.py JSON [+ID[@LINE]]... [-ID]... [clean]

Checks mailward audit --json output: +ID must be among the findings (at
that line of its file, when given), -ID must not be, and "clean" means no
finding above info.  Prints what is missing and exits 1 if anything is."""
import json
import sys

try:
    with open(sys.argv[1]) as f:
        doc = json.load(f)
except ValueError as e:
    print("# %s is not JSON: %s" % (sys.argv[1], e))
    sys.exit(1)
findings = doc["findings"]
bad = []
for arg in sys.argv[2:]:
    if arg == "clean":
        above = [f for f in findings if f["severity"] != "info"]
        if above:
            bad.append("not clean: " + ", ".join(
                "%s (%s)" % (f["id"], f["setting"]) for f in above))
        continue
    want, ident = arg[0] == "+", arg[1:]
    line = None
    if "@" in ident:
        ident, line = ident.split("@")
        line = int(line)
    hits = [f for f in findings if f["id"] == ident and
            (line is None or f["line"] == line)]
    if want and not hits:
        bad.append("missing " + arg[1:])
    if not want and hits:
        bad.append("unexpected %s: %s" % (ident, hits[0]["setting"]))
    for f in hits:
        for key in ("severity", "setting", "file", "why", "fix"):
            if not isinstance(f.get(key), str) or (key != "file" and not f[key]):
                bad.append("%s has no %s" % (ident, key))
for b in bad:
    print("# " + b)
sys.exit(1 if bad else 0)
