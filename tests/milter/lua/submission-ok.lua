-- Authenticated submission over strong TLS passes, twice on one
-- connection (the second message gets a fresh context).
dofile(srcdir .. "/tests/milter/lua/lib.lua")
local conn = mw_connect("ORIGINATING", "localhost", "127.0.0.1")
for i = 1, 2 do
	expect("MAIL " .. i, mw_mail(conn, "<alice@example.org>",
				    with_auth(tls_macros(256), "alice")),
	       SMFIR_CONTINUE)
end
mt.disconnect(conn)
