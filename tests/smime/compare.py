#!/usr/bin/env python3
"""compare.py ORIGINAL ENTITY: checks that a signed entity is canonical
(7-bit, CRLF only, lines of at most 998 characters: RFC 8551 3.1) and
carries the same content as the original message: the same leaf parts,
with the same types and the same decoded bytes.  Line ends are compared
as lines, since CRLF is what a line end is on the wire (RFC 5322 2.3)."""
import email
import email.policy
import sys

orig = open(sys.argv[1], "rb").read()
entity = open(sys.argv[2], "rb").read()

problems = []
for n, line in enumerate(entity.split(b"\r\n")[:-1], 1):
    if b"\n" in line or b"\r" in line:
        problems.append("line %d: bare CR or LF" % n)
    if len(line) > 998:
        problems.append("line %d: %d characters" % (n, len(line)))
    if any(b >= 0x80 or b == 0 for b in line):
        problems.append("line %d: 8-bit or NUL" % n)
if entity and not entity.endswith(b"\r\n"):
    problems.append("entity does not end with CRLF")


def leaves(data):
    msg = email.message_from_bytes(data, policy=email.policy.compat32)
    out = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True) or b""
        payload = payload.replace(b"\r\n", b"\n").rstrip(b"\n")
        out.append((part.get_content_type(), payload))
    return out


a, b = leaves(orig), leaves(entity)
if len(a) != len(b):
    problems.append("%d parts sent, %d signed" % (len(a), len(b)))
for i, (x, y) in enumerate(zip(a, b)):
    if x[0] != y[0]:
        problems.append("part %d: type %s became %s" % (i, x[0], y[0]))
    if x[1] != y[1]:
        problems.append("part %d (%s): content differs" % (i, x[0]))
for p in problems[:10]:
    print("#", p)
sys.exit(1 if problems else 0)
