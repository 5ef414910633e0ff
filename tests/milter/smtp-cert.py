#!/usr/bin/env python3
"""One message over STARTTLS with a client certificate and its chain (the
certificate file may hold intermediate CAs after the certificate, which
are sent too; swaks sends the certificate alone).  Prints "MAIL CODE",
"RCPT CODE TEXT" and, when the recipient was accepted, "DATA CODE TEXT".
Usage: smtp-cert.py PORT SENDER CERT KEY SUBJECT"""

import smtplib
import ssl
import sys

port, sender, cert, key, subject = sys.argv[1:6]
context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
context.load_cert_chain(cert, key)

smtp = smtplib.SMTP("127.0.0.1", int(port), timeout=60)
smtp.ehlo("client.example")
smtp.starttls(context=context)
smtp.ehlo("client.example")
code, text = smtp.docmd("MAIL", "FROM:<%s>" % sender)
print("MAIL %d" % code)
if code == 250:
    code, text = smtp.docmd("RCPT", "TO:<bob@example.net>")
    print("RCPT %d %s" % (code, text.decode(errors="replace")))
    if code == 250:
        code, text = smtp.data("Subject: %s\r\n\r\nhello\r\n" % subject)
        print("DATA %d %s" % (code, text.decode(errors="replace")))
smtp.docmd("QUIT")
smtp.close()
