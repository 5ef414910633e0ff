-- Without authentication the processor takes no part: accepted at MAIL.
dofile(srcdir .. "/tests/milter/lua/lib.lua")
local conn = mw_connect("ORIGINATING", "localhost", "127.0.0.1")
expect("MAIL", mw_mail(conn, "<alice@example.org>", tls_macros(256)),
       SMFIR_ACCEPT)
mt.disconnect(conn)
