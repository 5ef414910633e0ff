#!/usr/bin/env python3
"""split-signed.py MSG DATA SIG: the signed entity of a multipart/signed
message (the exact bytes between the first two delimiters, RFC 1847 2.1)
and its DER signature, for verifiers that take detached signatures."""
import base64
import re
import sys

msg = open(sys.argv[1], "rb").read()
head, _, body = msg.partition(b"\r\n\r\n")
m = re.search(rb'boundary="?([^";\r\n]+)"?', head, re.I)
if not m:
    sys.exit("no boundary")
delim = b"--" + m.group(1)
start = body.index(delim + b"\r\n") + len(delim) + 2
end = body.index(b"\r\n" + delim + b"\r\n", start)
sigpart = body[end + 2 + len(delim) + 2:]
sig_headers, _, sig_b64 = sigpart.partition(b"\r\n\r\n")
sig_b64 = sig_b64[:sig_b64.index(b"\r\n" + delim + b"--")]
open(sys.argv[2], "wb").write(body[start:end])
open(sys.argv[3], "wb").write(base64.b64decode(sig_b64))
