-- Partner mail without TLS is refused.
dofile(srcdir .. "/tests/milter/lua/lib.lua")
local conn = mw_connect("MX", "mail.contoso.com", "198.51.100.7")
expect("MAIL", mw_mail(conn, "<ceo@contoso.com>", {}), SMFIR_REPLYCODE)
mt.disconnect(conn)
