-- Run with reload_cmd, which installs a policy that denies 192.0.2.50 and
-- sends SIGHUP.  A connection opened before the reload keeps the old
-- policy; one opened after it gets the new one.
dofile(srcdir .. "/tests/milter/lua/lib.lua")
local old = mw_connect("MX", "[192.0.2.50]", "192.0.2.50")
if not os.execute(reload_cmd) then
	fail("reload command failed")
end
local new = mw_connect("MX", "[192.0.2.50]", "192.0.2.50")
expect("MAIL on the new policy", mw_mail(new, "<x@example.org>", {}),
       SMFIR_REPLYCODE)
expect("MAIL on the old policy", mw_mail(old, "<x@example.org>", {}),
       SMFIR_CONTINUE)
mt.disconnect(old)
mt.disconnect(new)
