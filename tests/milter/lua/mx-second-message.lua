-- Accepting one message does not accept the session: the next MAIL FROM
-- on the same connection is checked again.
dofile(srcdir .. "/tests/milter/lua/lib.lua")
local conn = mw_connect("MX", "[198.51.100.9]", "198.51.100.9")
expect("first MAIL", mw_mail(conn, "<someone@example.org>", {}), SMFIR_CONTINUE)
expect("second MAIL", mw_mail(conn, "<ceo@contoso.com>", {}), SMFIR_REPLYCODE)
mt.disconnect(conn)
