#!/usr/bin/env python3
"""gen-corpus.py DIR [FROM [SIGNED]]: writes the test corpus, one message
per file.  SIGNED, a message S/MIME-signed by someone else, is forwarded
as message/rfc822 (forwarded-signed) and its multipart/signed body sent
as a part of a multipart/mixed (signed-in-mixed); the tests check that
its signature still verifies inside ours.

Generated rather than stored so that line ends (CRLF and LF), NUL bytes
and over-long lines reach the tests exactly as meant.
"""
import os
import sys

out = sys.argv[1]
sender = sys.argv[2] if len(sys.argv) > 2 else "alice@example.org"
signed = sys.argv[3] if len(sys.argv) > 3 else None
os.makedirs(out, exist_ok=True)

HEAD = ("From: Alice Example <%s>\n"
        "To: Bob <bob@example.net>\n"
        "Subject: test %%s\n"
        "Date: Mon, 23 Nov 2026 00:00:00 +0000\n"
        "Message-ID: <%%s@example.org>\n" % sender)


def msg(name, headers, body, crlf=True):
    data = (HEAD % (name, name) + headers).encode() + b"\n" + body
    if crlf:
        data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    with open(os.path.join(out, name + ".eml"), "wb") as f:
        f.write(data)


msg("plain", "Content-Type: text/plain; charset=us-ascii\n",
    b"Hello Bob,\n\nthis is plain 7-bit text.\n\n-- \nAlice\n")

msg("no-mime", "",
    b"A message without any MIME header fields.\n")

msg("utf8-8bit", "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: 8bit\n",
    "Grüße aus Köln, ça va? 日本語のテキスト\nFrom here on\n"
    "trailing space \n.dot line\n".encode())

msg("long-lines", "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=us-ascii\n",
    b"short\n" + b"x" * 1500 + b"\n" + b"word " * 400 + b"\nend\n")

msg("lf-input", "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: 8bit\n",
    "Line ends are LF only in this file. Zürich.\nSecond line.\n".encode(),
    crlf=False)

msg("crlf-input", "MIME-Version: 1.0\nContent-Type: text/plain\n",
    b"Line ends are CRLF.\r\nSecond line.\r\n")

msg("alternative-attachments", "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"outer-b\"\n",
    b"This is a multi-part message in MIME format.\n"
    b"--outer-b\n"
    b"Content-Type: multipart/alternative; boundary=alt-b\n\n"
    b"--alt-b\n"
    b"Content-Type: text/plain; charset=utf-8\n"
    b"Content-Transfer-Encoding: 8bit\n\n"
    + "Plain part: naïve café.\n".encode() +
    b"--alt-b\n"
    b"Content-Type: text/html; charset=utf-8\n"
    b"Content-Transfer-Encoding: 8bit\n\n"
    + "<p>HTML part: naïve café.</p>\n".encode() +
    b"--alt-b--\n\n"
    b"--outer-b\n"
    b"Content-Type: text/csv; name=\"data.csv\"\n"
    b"Content-Disposition: attachment; filename=\"data.csv\"\n\n"
    b"a,b,c\n1,2,3\n"
    b"--outer-b\n"
    b"Content-Type: application/pdf; name=\"doc.pdf\"\n"
    b"Content-Transfer-Encoding: base64\n"
    b"Content-Disposition: attachment; filename=\"doc.pdf\"\n\n"
    b"JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFI+PgpzdHJlYW0K\n"
    b"--outer-b--\n"
    b"epilogue\n")

binary = bytes(range(256)) * 8 + b"\x00\r\n\x00\n\r\xff" * 10
msg("binary-attachment", "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"=_bin\"\n",
    b"--=_bin\n"
    b"Content-Type: text/plain\n\n"
    b"See the attachment.\n"
    b"--=_bin\n"
    b"Content-Type: application/octet-stream; name=blob.bin\n"
    b"Content-Transfer-Encoding: binary\n\n"
    + binary + b"\n"
    b"--=_bin--\n", crlf=False)

msg("nested", "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed;\n\tboundary=\"l1\"\n"
    "Content-Transfer-Encoding: 8bit\n",
    b"--l1\n"
    b"Content-Type: multipart/related; boundary=\"l2\"\n\n"
    b"--l2\n"
    b"Content-Type: multipart/alternative; boundary=\"l3\"\n\n"
    b"--l3\n"
    b"Content-Type: text/plain; charset=iso-8859-1\n"
    b"Content-Transfer-Encoding: 8bit\n\n"
    b"Deep \xe9t\xe9 text.\n"
    b"--l3--\n"
    b"--l2\n"
    b"Content-Type: image/png\nContent-Transfer-Encoding: base64\n\n"
    b"iVBORw0KGgo=\n"
    b"--l2--\n"
    b"--l1\n"
    b"Content-Type: message/rfc822\n\n"
    b"From: Carol <carol@example.org>\n"
    b"Subject: attached\n"
    b"Content-Type: text/plain; charset=utf-8\n"
    b"Content-Transfer-Encoding: 8bit\n\n"
    + "Attached message: Ärger.\n".encode() +
    b"--l1--\n")

msg("folded-headers", "MIME-Version: 1.0\n"
    "Content-Type: text/plain;\n"
    "\tcharset=\"us-ascii\";\n"
    "\tformat=flowed;\n"
    "  delsp=no\n"
    "X-Long: this header\n  is folded\n\tover\n  several lines\n"
    "Content-Description: a description\n"
    "   folded too\n",
    b"Body after folded headers.\n")

msg("already-signed", "MIME-Version: 1.0\n"
    "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\";"
    "\n\tmicalg=sha-256; boundary=\"sig\"\n",
    b"--sig\nContent-Type: text/plain\n\nsigned\n--sig\n"
    b"Content-Type: application/pkcs7-signature\n"
    b"Content-Transfer-Encoding: base64\n\nAAAA\n--sig--\n")

# Japanese in the three charsets mail uses (RFC 1468 ISO-2022-JP is 7-bit
# with escape sequences; Shift_JIS and EUC-JP are 8-bit), each with an
# encoded Subject as Japanese mailers write it.
JA = ("日本語のテキストです。\n東京都千代田区、ｶﾀｶﾅ（半角）も含む。\n"
      "From で始まる行と、末尾に空白がある行 \n" * 30)
for name, charset in (("ja-iso2022", "iso-2022-jp"), ("ja-sjis", "shift_jis"),
                      ("ja-eucjp", "euc-jp")):
    cte = "7bit" if charset == "iso-2022-jp" else "8bit"
    text = JA if charset != "iso-2022-jp" else JA.replace("ｶﾀｶﾅ（半角）", "カタカナ")
    msg(name, "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=%s\n"
        "Content-Transfer-Encoding: %s\n" % (charset.upper(), cte),
        text.encode(charset))

# A Japanese message with an attachment, nested three deep.
msg("ja-nested", "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"ja-1\"\n",
    b"--ja-1\n"
    b"Content-Type: multipart/alternative; boundary=\"ja-2\"\n\n"
    b"--ja-2\n"
    b"Content-Type: text/plain; charset=ISO-2022-JP\n"
    b"Content-Transfer-Encoding: 7bit\n\n" + JA.replace("ｶﾀｶﾅ（半角）", "").encode("iso-2022-jp") +
    b"--ja-2\n"
    b"Content-Type: text/html; charset=utf-8\n"
    b"Content-Transfer-Encoding: 8bit\n\n"
    + ("<p>" + JA + "</p>\n").encode() +
    b"--ja-2--\n"
    b"--ja-1\n"
    b"Content-Type: text/csv; charset=Shift_JIS; name=\"data.csv\"\n"
    b"Content-Disposition: attachment\n\n" + "名前,値\n東京,1\n".encode("shift_jis") +
    b"--ja-1--\n")

# A boundary longer than RFC 2046's 70 characters, as some clients write.
long_b = "----=_Part_" + "0123456789" * 9
msg("long-boundary", "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed;\n\tboundary=\"%s\"\n" % long_b,
    ("--%s\nContent-Type: text/plain; charset=utf-8\n"
     "Content-Transfer-Encoding: 8bit\n\nÜber lange Grenzen.\n"
     "--%s\nContent-Type: application/octet-stream; name=a.bin\n"
     "Content-Transfer-Encoding: base64\n\nAAECAwQF\n"
     "--%s--\n" % (long_b, long_b, long_b)).encode())

if signed is not None:
    raw = open(signed, "rb").read().replace(b"\r\n", b"\n")
    msg("forwarded-signed", "MIME-Version: 1.0\n"
        "Content-Type: multipart/mixed; boundary=\"fwd-outer\"\n",
        b"--fwd-outer\n"
        b"Content-Type: text/plain; charset=utf-8\n"
        b"Content-Transfer-Encoding: 8bit\n\n"
        + "Weitergeleitet, mit Bobs Signatur.\n".encode() +
        b"--fwd-outer\n"
        b"Content-Type: message/rfc822\n\n" + raw +
        b"\n--fwd-outer--\n")
    head, _, body = raw.partition(b"\n\n")
    ctype = [line for line in head.split(b"\n")
             if line.lower().startswith(b"content-type:")][0]
    msg("signed-in-mixed", "MIME-Version: 1.0\n"
        "Content-Type: multipart/mixed; boundary=\"mix-outer\"\n",
        b"--mix-outer\n"
        b"Content-Type: text/plain\n\nThe signed part follows.\n"
        b"--mix-outer\n" + ctype + b"\n\n" + body +
        b"\n--mix-outer--\n")
