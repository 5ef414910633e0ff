-- The right CN from another CA is refused.
dofile(srcdir .. "/tests/milter/lua/lib.lua")
local conn = mw_connect("MX", "mail.contoso.com", "198.51.100.7")
expect("MAIL", mw_mail(conn, "<ceo@CONTOSO.COM>",
		       tls_macros(256, "mail.contoso.com", "Other CA")),
       SMFIR_REPLYCODE)
mt.disconnect(conn)
