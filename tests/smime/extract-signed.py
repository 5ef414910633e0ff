#!/usr/bin/env python3
"""extract-signed.py ENTITY OUT: the signed message carried inside the
multipart ENTITY (what a verifier printed as the signed content), as the
exact bytes it has there: a message/rfc822 part's body, or a
multipart/signed part with its header fields.  A verifier run on OUT then
shows whether the inner signature survived the outer signing."""
import re
import sys

data = open(sys.argv[1], "rb").read()
head, _, body = data.partition(b"\r\n\r\n")
m = re.search(rb'boundary="?([^";\r\n]+)"?', head, re.I)
if not m:
    sys.exit("no boundary in the entity's Content-Type")
delim = b"\r\n--" + m.group(1)
for part in (b"\r\n" + body).split(delim)[1:]:
    part = part[2:]          # the line end after the delimiter
    if part.startswith(b"--"):
        break
    phead, _, pbody = part.partition(b"\r\n\r\n")
    ctype = re.search(rb"(?im)^content-type:\s*([a-z0-9/.+-]+)", phead)
    kind = ctype.group(1).lower() if ctype else b"text/plain"
    if kind == b"message/rfc822":
        out = pbody
    elif kind == b"multipart/signed":
        out = part
    else:
        continue
    open(sys.argv[2], "wb").write(out + b"\r\n")
    sys.exit(0)
sys.exit("no signed part")
