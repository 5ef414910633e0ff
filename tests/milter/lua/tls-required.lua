-- "TLS-Required: no" on mail to a partner domain: removed for contoso.com
-- (the default), the message refused for fabrikam.com
-- (tls_required_no = reject); mail to others keeps it.
dofile(srcdir .. "/tests/milter/lua/lib.lua")

local function message(rcpt)
	local conn = mw_connect("ORIGINATING", "localhost", "127.0.0.1")
	expect("MAIL", mw_mail(conn, "<alice@example.org>",
			       with_auth(tls_macros(256), "alice")), SMFIR_CONTINUE)
	if mt.rcptto(conn, rcpt) ~= nil then
		fail("mt.rcptto() failed")
	end
	expect("RCPT " .. rcpt, mt.getreply(conn), SMFIR_CONTINUE)
	if mt.header(conn, "Subject", "hello") ~= nil or
	   mt.getreply(conn) ~= SMFIR_CONTINUE or
	   mt.header(conn, "TLS-Required", "No") ~= nil or
	   mt.getreply(conn) ~= SMFIR_CONTINUE or mt.eoh(conn) ~= nil then
		fail("sending the header failed")
	end
	return conn, mt.getreply(conn)
end

-- contoso.com: the header goes at the end of the message.
local conn, reply = message("<bob@Contoso.COM>")
expect("end of header (contoso.com)", reply, SMFIR_CONTINUE)
if mt.bodystring(conn, "hello\r\n") ~= nil or
   mt.getreply(conn) ~= SMFIR_CONTINUE or mt.eom(conn) ~= nil then
	fail("sending the body failed")
end
expect("end of message (contoso.com)", mt.getreply(conn), SMFIR_CONTINUE)
if not mt.eom_check(conn, MT_HDRDELETE, "TLS-Required") then
	fail("TLS-Required was not removed")
end
mt.disconnect(conn)

-- fabrikam.com: refused after the header.
conn, reply = message("<bob@fabrikam.com>")
expect("end of header (fabrikam.com)", reply, SMFIR_REPLYCODE)
mt.disconnect(conn)

-- elsewhere: none of our business; not refused (accepted after the
-- header, or continued when a message processor such as S/MIME signing
-- takes part).
conn, reply = message("<bob@example.net>")
if reply ~= SMFIR_ACCEPT and reply ~= SMFIR_CONTINUE then
	fail("end of header (example.net): got " .. tostring(reply))
end
mt.disconnect(conn)
