#!/usr/bin/env python3
"""STARTTLS with a client certificate, then MAIL FROM without a second
EHLO (which RFC 3207 asks for, but Postfix does not require).  Prints the
reply to MAIL FROM as "CODE TEXT".
Usage: smtp-no-ehlo.py PORT SENDER CERT KEY"""

import smtplib
import ssl
import sys

port, sender, cert, key = sys.argv[1:5]
context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
context.load_cert_chain(cert, key)

smtp = smtplib.SMTP("127.0.0.1", int(port), timeout=60)
smtp.ehlo("client.example")
smtp.starttls(context=context)
code, text = smtp.docmd("MAIL", "FROM:<%s>" % sender)
print("%d %s" % (code, text.decode(errors="replace")))
smtp.docmd("QUIT")
smtp.close()
