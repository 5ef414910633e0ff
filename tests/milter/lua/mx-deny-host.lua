-- Connection control by Postfix's verified client name.
dofile(srcdir .. "/tests/milter/lua/lib.lua")
local conn = mw_connect("MX", "mail.spammer.example", "192.0.2.9")
expect("MAIL", mw_mail(conn, "<x@spammer.example>", {}), SMFIR_REPLYCODE)
mt.disconnect(conn)
