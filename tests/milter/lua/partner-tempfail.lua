-- A partner with on_fail = tempfail gets a 4xx.
dofile(srcdir .. "/tests/milter/lua/lib.lua")
local conn = mw_connect("MX", "mail.fabrikam.com", "198.51.100.8")
expect("MAIL", mw_mail(conn, "<ceo@fabrikam.com>", tls_macros(256)),
       SMFIR_REPLYCODE)
mt.disconnect(conn)
