-- Partner mail over TLS with a trusted certificate whose CN and issuer CN
-- match (both CN patterns).
dofile(srcdir .. "/tests/milter/lua/lib.lua")
for _, cn in ipairs({ "mail.contoso.com", "mx7.contoso.com" }) do
	local conn = mw_connect("MX", "mail.contoso.com", "198.51.100.7")
	expect("MAIL with " .. cn,
	       mw_mail(conn, "<ceo@contoso.com>", tls_macros(256, cn, "Contoso CA")),
	       SMFIR_CONTINUE)
	mt.disconnect(conn)
end
