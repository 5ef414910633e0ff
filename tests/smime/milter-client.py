#!/usr/bin/env python3
"""milter-client.py [-d DAEMON_NAME] [-r] SOCKET LOGIN IN OUT: plays
Postfix's part of the milter protocol (version 6) for one authenticated
submission of message IN, and writes the message as the milter left it
(header changes and replaced body applied) to OUT.  miltertest cannot
take a replaced body of this size, hence this client.  -d: the
{daemon_name} macro (ORIGINATING); -r: the body goes as it is in IN,
bare LF and all, where Postfix would have sent CRLF.  Exits 0 when the
milter accepted the message."""
import socket
import struct
import sys

SMFIP_NOCONNECT, SMFIP_NOHELO, SMFIP_NOMAIL, SMFIP_NORCPT = 0x1, 0x2, 0x4, 0x8
SMFIP_NOBODY, SMFIP_NOHDRS, SMFIP_NOEOH, SMFIP_NR_HDR = 0x10, 0x20, 0x40, 0x80
SMFIP_NR_CONN, SMFIP_NR_MAIL, SMFIP_NR_EOH, SMFIP_NR_BODY = \
    0x1000, 0x4000, 0x40000, 0x80000
SMFIP_NR_RCPT = 0x8000

args = sys.argv[1:]
daemon_name, raw_body = "ORIGINATING", False
while args and args[0].startswith("-"):
    if args[0] == "-d":
        daemon_name = args[1]
        args = args[2:]
    elif args[0] == "-r":
        raw_body = True
        args = args[1:]
    else:
        sys.exit("unknown option " + args[0])
path, login, src, dst = args[:4]
if path.startswith("unix:"):
    path = path[5:]
s = socket.socket(socket.AF_UNIX)
s.connect(path)


def send(cmd, data=b""):
    s.sendall(struct.pack(">I", len(data) + 1) + cmd + data)


def recv():
    head = b""
    while len(head) < 4:
        chunk = s.recv(4 - len(head))
        if not chunk:
            sys.exit("milter closed the connection")
        head += chunk
    n = struct.unpack(">I", head)[0]
    data = bytearray()
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            sys.exit("milter closed the connection")
        data += chunk
    return bytes(data[:1]), bytes(data[1:])


def reply():
    """The milter's reply to a step, skipping progress notices."""
    while True:
        cmd, data = recv()
        if cmd != b"p":
            return cmd, data


def z(*items):
    return b"".join(i.encode() + b"\0" for i in items)


# Offer every action and every protocol step flag Postfix 3.7 offers.
send(b"O", struct.pack(">III", 6, 0x1FF, 0x1FFFFF))
cmd, data = recv()
_, actions, proto = struct.unpack(">III", data[:12])


def step(flag_skip, flag_noreply, cmd, data, macros=None):
    if macros:
        send(b"D", cmd + z(*macros))
    if proto & flag_skip:
        return b"c"
    send(cmd, data)
    if proto & flag_noreply:
        return b"c"
    return reply()[0]


r = step(SMFIP_NOCONNECT, SMFIP_NR_CONN, b"C",
         z("localhost") + b"4" + struct.pack(">H", 12345) + z("127.0.0.1"),
         ["{daemon_name}", daemon_name, "{daemon_addr}", "127.0.0.1"])
r = step(SMFIP_NOMAIL, SMFIP_NR_MAIL, b"M", z("<%s>" % login),
         ["{auth_type}", "PLAIN", "{auth_authen}", login,
          "{tls_version}", "TLSv1.3", "{cipher_bits}", "256", "i", "4ABCDEF"])
if r == b"a":
    # Accepted at MAIL: the milter wants nothing more of this message.
    send(b"Q")
    open(dst, "wb").write(open(src, "rb").read())
    sys.exit(0)
if r != b"c":
    sys.exit("MAIL: reply %r" % r)
# A recipient, as Postfix sends one unless the milter skips the step.
r = step(SMFIP_NORCPT, SMFIP_NR_RCPT, b"R", z("<bob@example.net>"),
         ["{rcpt_addr}", "bob@example.net"])
if r != b"c":
    sys.exit("RCPT: reply %r" % r)

raw = open(src, "rb").read()
if not raw_body:
    raw = raw.replace(b"\r\n", b"\n")
head, _, body = raw.partition(b"\n\n")
headers = []
for line in head.split(b"\n"):
    if line[:1] in (b" ", b"\t"):
        headers[-1][1] += b"\n" + line
    else:
        name, _, value = line.partition(b":")
        headers.append([name, value.lstrip(b" \t")])
for name, value in headers:
    r = step(SMFIP_NOHDRS, SMFIP_NR_HDR, b"L", name + b"\0" + value + b"\0")
    if r != b"c":
        sys.exit("header: reply %r" % r)
step(SMFIP_NOEOH, SMFIP_NR_EOH, b"N", b"")
if not raw_body:
    body = body.replace(b"\n", b"\r\n")
for i in range(0, len(body), 65535):
    r = step(SMFIP_NOBODY, SMFIP_NR_BODY, b"B", body[i:i + 65535])
    if r != b"c":
        sys.exit("body: reply %r" % r)
send(b"D", b"E" + z("i", "4ABCDEF"))
send(b"E")
new_body = None      # the pieces of the replaced body, if any
while True:
    cmd, data = reply()
    if cmd == b"b":
        if new_body is None:
            new_body = []
        new_body.append(data)
    elif cmd == b"m":
        index = struct.unpack(">I", data[:4])[0]
        name, value = data[4:].split(b"\0")[:2]
        seen = 0
        for h in headers:
            if h[0].lower() == name.lower():
                seen += 1
                if seen == max(index, 1):
                    h[1] = value if value else None
                    break
        headers = [h for h in headers if h[1] is not None]
    elif cmd == b"h":
        name, value = data.split(b"\0")[:2]
        headers.append([name, value])
    elif cmd in (b"c", b"a"):
        break
    else:
        sys.exit("end of message: reply %r %r" % (cmd, data[:80]))
send(b"Q")
with open(dst, "wb") as f:
    for name, value in headers:
        f.write(name + b": " + value.replace(b"\r\n", b"\n").replace(
            b"\n", b"\r\n") + b"\r\n")
    f.write(b"\r\n")
    f.write(b"".join(new_body) if new_body is not None else body)
