-- Connection control by client address.
dofile(srcdir .. "/tests/milter/lua/lib.lua")
local conn = mw_connect("MX", "[127.0.0.3]", "127.0.0.3")
expect("MAIL", mw_mail(conn, "<x@example.org>", {}), SMFIR_REPLYCODE)
mt.disconnect(conn)
