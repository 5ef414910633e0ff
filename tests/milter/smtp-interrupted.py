#!/usr/bin/env python3
"""One SMTP session during which the milter is killed: after EHLO (the
session is open, the mail transaction not yet started) or after RCPT TO
(in the middle of the mail transaction).  Prints the server's first
refusal as "STAGE CODE TEXT", or "accepted" if there was none.

Usage: smtp-interrupted.py [--starttls] [--login USER:PASSWORD]
           --kill-after ehlo|rcpt PORT FROM TO MESSAGE-ID PID..."""

import argparse
import os
import signal
import smtplib
import ssl
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--starttls", action="store_true")
parser.add_argument("--login")
parser.add_argument("--kill-after", choices=("ehlo", "rcpt"), required=True)
parser.add_argument("port", type=int)
parser.add_argument("sender")
parser.add_argument("rcpt")
parser.add_argument("msgid")
parser.add_argument("pids", type=int, nargs="+")
args = parser.parse_args()


def kill_milter():
    for pid in args.pids:
        os.kill(pid, signal.SIGKILL)
    for pid in args.pids:
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)


def refused(stage, code, text):
    print("%s %d %s" % (stage, code, text.decode(errors="replace")))
    sys.exit(0)


msg = ("From: <%s>\r\nTo: <%s>\r\nSubject: interrupted\r\n"
       "Message-ID: %s\r\n\r\nThis message must arrive exactly once.\r\n"
       % (args.sender, args.rcpt, args.msgid))

smtp = smtplib.SMTP("127.0.0.1", args.port, timeout=60)
smtp.ehlo("client.example")
if args.starttls:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    smtp.starttls(context=context)
    smtp.ehlo("client.example")
if args.login:
    user, password = args.login.split(":", 1)
    smtp.login(user, password)
if args.kill_after == "ehlo":
    kill_milter()

code, text = smtp.mail(args.sender)
if code != 250:
    refused("MAIL", code, text)
code, text = smtp.rcpt(args.rcpt)
if code != 250:
    refused("RCPT", code, text)
if args.kill_after == "rcpt":
    kill_milter()

try:
    code, text = smtp.data(msg)
except smtplib.SMTPDataError as e:
    code, text = e.smtp_code, e.smtp_error
if code != 250:
    refused("DATA", code, text)
print("accepted %d %s" % (code, text.decode(errors="replace")))
smtp.quit()
