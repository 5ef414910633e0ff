-- A Postfix service the policy does not name is accepted untouched (at
-- MAIL FROM: Postfix expects no reply to connect).
dofile(srcdir .. "/tests/milter/lua/lib.lua")
local conn, reply = mw_connect("SOMETHING-ELSE", "localhost", "127.0.0.1")
expect("connect", reply, SMFIR_CONTINUE)
expect("MAIL", mw_mail(conn, "<x@example.org>", {}), SMFIR_ACCEPT)
mt.disconnect(conn)
