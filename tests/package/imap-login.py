#!/usr/bin/env python3
"""imap-login.py SOURCE: logs in as the tests' user over STARTTLS to the
IMAP server on 127.0.0.1:143 (the throw-away root's Dovecot), from the
address SOURCE, with the clients of tests/dovecot/mwdovecot.py.  Exit
status 0 when the login succeeds, 1 when it is refused; prints what the
server said."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "dovecot"))
import mwdovecot  # noqa: E402


def main():
    source = sys.argv[1]
    try:
        c = mwdovecot.IMAP(source, port=143)
        c.starttls(mwdovecot.client_context())
        typ, data = c.login(mwdovecot.USER, mwdovecot.PASSWORD)
        c.logout()
    except (mwdovecot.imaplib.IMAP4.error, mwdovecot.imaplib.IMAP4.abort,
            OSError) as e:
        print("refused: %s" % e)
        return 1
    print("%s: %s" % (typ, b" ".join(data).decode(errors="replace")))
    return 0 if typ == "OK" else 1


if __name__ == "__main__":
    sys.exit(main())
