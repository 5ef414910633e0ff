-- One MX transaction against the installed milter: the client's address
-- is "ip", and MAIL FROM must be let through ("pass": continue, or
-- accept, as the milter answers when nothing else applies to the
-- message) or refused ("reject").  test-packages.sh passes socket,
-- srcdir, ip and want (miltertest -D).
dofile(srcdir .. "/tests/milter/lua/lib.lua")
local conn = mw_connect("MX", "[" .. ip .. "]", ip)
local reply = mw_mail(conn, "<x@example.org>", {})
if want == "pass" then
	if reply ~= SMFIR_CONTINUE and reply ~= SMFIR_ACCEPT then
		fail("MAIL from " .. ip .. ": got " .. tostring(reply) ..
		     ", expected continue or accept")
	end
else
	expect("MAIL from " .. ip, reply, SMFIR_REPLYCODE)
end
mt.disconnect(conn)
