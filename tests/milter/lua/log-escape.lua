-- Client-supplied text cannot forge log fields: the sender's control
-- characters and field delimiters are escaped (miltertest.sh checks the
-- log line).
dofile(srcdir .. "/tests/milter/lua/lib.lua")
local conn = mw_connect("MX", "mail.contoso.com", "198.51.100.7")
expect("MAIL", mw_mail(conn, "<x@contoso.com>",
       { "{mail_addr}", "\"\027[31m\r\nclient=x[192.0.2.98]\"@contoso.com" }),
       SMFIR_REPLYCODE)
mt.disconnect(conn)
