-- Submission without TLS is refused at MAIL FROM.
dofile(srcdir .. "/tests/milter/lua/lib.lua")
local conn, reply = mw_connect("ORIGINATING", "localhost", "127.0.0.1")
expect("connect", reply, SMFIR_CONTINUE)
expect("MAIL", mw_mail(conn, "<alice@example.org>", {}), SMFIR_REPLYCODE)
mt.disconnect(conn)
