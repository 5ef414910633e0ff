-- After a failed reload the last good policy (which denies 192.0.2.50)
-- stays in force.
dofile(srcdir .. "/tests/milter/lua/lib.lua")
local conn = mw_connect("MX", "[192.0.2.50]", "192.0.2.50")
expect("MAIL", mw_mail(conn, "<x@example.org>", {}), SMFIR_REPLYCODE)
mt.disconnect(conn)
