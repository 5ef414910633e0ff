#!/usr/bin/env python3
"""A stand-in for Dovecot's auth-client socket, enough for Postfix's
smtpd_sasl_type = dovecot: PLAIN only, one user.  Usage:
fake-dovecot-auth.py SOCKET USER PASSWORD"""

import base64
import os
import socketserver
import sys

SOCKET, USER, PASSWORD = sys.argv[1:4]


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write(b"VERSION\t1\t2\nMECH\tPLAIN\tplaintext\n"
                         b"SPID\t%d\nCUID\t1\nDONE\n" % os.getpid())
        for line in self.rfile:
            fields = line.decode().rstrip("\n").split("\t")
            if fields[0] != "AUTH":
                continue
            rid = fields[1]
            resp = [f[5:] for f in fields if f.startswith("resp=")]
            ok = False
            if resp:
                parts = base64.b64decode(resp[0]).split(b"\0")
                ok = (len(parts) == 3 and parts[1].decode() == USER
                      and parts[2].decode() == PASSWORD)
            if ok:
                self.wfile.write(("OK\t%s\tuser=%s\n" % (rid, USER)).encode())
            else:
                self.wfile.write(("FAIL\t%s\n" % rid).encode())


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


if os.path.exists(SOCKET):
    os.unlink(SOCKET)
with Server(SOCKET, Handler) as server:
    os.chmod(SOCKET, 0o666)
    server.serve_forever()
