#!/usr/bin/env python3
"""Which policy an SMTP session gets across a reload.  Opens session A
(EHLO only) and session B (EHLO, MAIL FROM, RSET), runs COMMAND (which
reloads the milter's policy), then sends MAIL FROM in A, in B and in a new
session C.  Prints one line per session: "A CODE", "B CODE", "C CODE".
Usage: smtp-reload.py PORT SENDER COMMAND"""

import smtplib
import subprocess
import sys

port, sender, command = int(sys.argv[1]), sys.argv[2], sys.argv[3]


def session():
    smtp = smtplib.SMTP("127.0.0.1", port, timeout=60)
    smtp.ehlo("client.example")
    return smtp


def mail(smtp):
    code, _ = smtp.docmd("MAIL", "FROM:<%s>" % sender)
    return code


a = session()
b = session()
first = mail(b)
b.docmd("RSET")
subprocess.run(command, shell=True, check=True)
c = session()
print("B-before %d" % first)
print("A %d" % mail(a))
print("B %d" % mail(b))
print("C %d" % mail(c))
for smtp in (a, b, c):
    smtp.docmd("QUIT")
    smtp.close()
