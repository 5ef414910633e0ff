-- Senders outside the partner domains, and the null sender, are not
-- affected by partner rules.  Accepted senders get "accept" at MAIL FROM:
-- with no message processor there is nothing left to do for the message.
dofile(srcdir .. "/tests/milter/lua/lib.lua")
for _, sender in ipairs({ "<someone@example.org>", "<>",
			  "<x@notcontoso.com>" }) do
	local conn = mw_connect("MX", "[198.51.100.9]", "198.51.100.9")
	expect("MAIL " .. sender, mw_mail(conn, sender, {}), SMFIR_CONTINUE)
	mt.disconnect(conn)
end
