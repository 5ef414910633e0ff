-- With a message processor (the test build's), the milter asks for the
-- headers and body, the processor sees them, and its change at the end of
-- the message reaches the MTA.  Messages it takes no part in (senders
-- without a login) are accepted at MAIL FROM, with no content sent.
dofile(srcdir .. "/tests/milter/lua/lib.lua")

local function send_content(conn, headers)
	for _, h in ipairs(headers) do
		if mt.header(conn, h[1], h[2]) ~= nil then
			fail("mt.header() failed")
		end
		expect("header " .. h[1], mt.getreply(conn), SMFIR_CONTINUE)
	end
	if mt.eoh(conn) ~= nil then
		fail("mt.eoh() failed")
	end
	expect("end of headers", mt.getreply(conn), SMFIR_CONTINUE)
	if mt.bodystring(conn, "hello\r\n") ~= nil then
		fail("mt.bodystring() failed")
	end
	expect("body", mt.getreply(conn), SMFIR_CONTINUE)
	if mt.eom(conn) ~= nil then
		fail("mt.eom() failed")
	end
	return mt.getreply(conn)
end

local conn = mw_connect("ORIGINATING", "localhost", "127.0.0.1")
expect("MAIL", mw_mail(conn, "<alice@example.org>",
		       with_auth(tls_macros(256), "alice")), SMFIR_CONTINUE)
expect("end of message", send_content(conn, { { "From", "alice@example.org" },
					      { "Subject", "signed" } }),
       SMFIR_CONTINUE)
if not mt.eom_check(conn, MT_HDRADD, "X-Mailward-Test",
		    "login=alice headers=2 body=7") then
	fail("the processor's header was not added")
end
mt.disconnect(conn)

conn = mw_connect("MX", "[198.51.100.9]", "198.51.100.9")
expect("MAIL", mw_mail(conn, "<someone@example.org>", {}), SMFIR_CONTINUE)
mt.disconnect(conn)
