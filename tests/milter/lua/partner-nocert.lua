-- Partner mail over TLS without a trusted certificate is refused.
dofile(srcdir .. "/tests/milter/lua/lib.lua")
local conn = mw_connect("MX", "mail.contoso.com", "198.51.100.7")
expect("MAIL", mw_mail(conn, "<ceo@contoso.com>", tls_macros(256)),
       SMFIR_REPLYCODE)
mt.disconnect(conn)
