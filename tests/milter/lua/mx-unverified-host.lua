-- A name that Postfix could not verify ("[addr]") matches no host rule.
dofile(srcdir .. "/tests/milter/lua/lib.lua")
local conn = mw_connect("MX", "[192.0.2.9]", "192.0.2.9")
expect("MAIL", mw_mail(conn, "<x@spammer.example>", {}), SMFIR_CONTINUE)
mt.disconnect(conn)
