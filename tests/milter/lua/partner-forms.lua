-- Partner domain security judges the sender Postfix queues, not the text
-- after the last '@': every spelling of a contoso.com sender without TLS
-- is refused, those that are not addresses with 553 5.1.7 (miltertest.sh
-- counts the replies in the log).  Without the
-- {mail_addr} macro the milter parses MAIL FROM itself; with it, the
-- macro decides.
dofile(srcdir .. "/tests/milter/lua/lib.lua")

local function refused(sender, macros, code)
	local conn = mw_connect("MX", "mail.contoso.com", "198.51.100.7")
	expect("MAIL FROM:" .. sender, mw_mail(conn, sender, macros),
	       SMFIR_REPLYCODE)
	mt.disconnect(conn)
end

local partner = { "<X@CONTOSO.COM>", "<x@contoso.com.>",
	"<@a.example,@b.example:x@contoso.com>", "<\"x y\"@contoso.com>",
	"<\"x@evil.example\"@contoso.com>", "<ceo%contoso.com>",
	"<contoso.com!ceo>", "<ceo%evil.example%contoso.com>" }
for _, sender in ipairs(partner) do
	refused(sender, {}, "550")
end
local unparsable = { "<x@(c)contoso.com>", "<x@contoso.com >",
	"<x@contoso.com(c)>", "<x@evil.example@contoso.com>" }
for _, sender in ipairs(unparsable) do
	refused(sender, {}, "553")
end
-- Postfix's parse wins over the raw text.
refused("<x@(c)contoso.com>", { "{mail_addr}", "x@contoso.com" }, "550")
-- ... and a non-partner sender stays one.
local conn = mw_connect("MX", "mail.example.org", "198.51.100.9")
expect("MAIL (non-partner)", mw_mail(conn, "<x@example.org>",
       { "{mail_addr}", "x@example.org" }), SMFIR_CONTINUE)
mt.disconnect(conn)
