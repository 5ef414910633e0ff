-- Helpers for the mailward-milter miltertest scripts.  miltertest.sh
-- passes the milter's socket as the global "socket" (miltertest -D).

local unpack = table.unpack or unpack

-- miltertest does not print a script's errors: say it on stderr first.
function fail(message)
	io.stderr:write(message .. "\n")
	error(message)
end

function expect(what, got, want)
	if got ~= want then
		fail(what .. ": got " .. tostring(got) .. ", expected " ..
		     tostring(want))
	end
end

-- Connects as the Postfix service daemon_name would, for a client whose
-- verified name is host ("[ip]" when it has none).  Returns the
-- connection and the milter's reply to the connect.
function mw_connect(daemon_name, host, ip)
	local conn = mt.connect(socket, 40, 0.25)
	if conn == nil then
		fail("cannot connect to " .. socket)
	end
	mt.macro(conn, SMFIC_CONNECT, "{daemon_name}", daemon_name,
		 "{daemon_addr}", "127.0.0.1")
	if mt.conninfo(conn, host, ip) ~= nil then
		fail("mt.conninfo() failed")
	end
	return conn, mt.getreply(conn)
end

-- TLS facts as Postfix sends them with MAIL.
function tls_macros(bits, cert_cn, issuer_cn)
	local m = { "{tls_version}", "TLSv1.3", "{cipher}", "TLS_AES_256_GCM_SHA384",
		    "{cipher_bits}", tostring(bits) }
	if cert_cn ~= nil then
		table.insert(m, "{cert_subject}")
		table.insert(m, cert_cn)
		table.insert(m, "{cert_issuer}")
		table.insert(m, issuer_cn)
	end
	return m
end

function with_auth(macros, user)
	table.insert(macros, "{auth_type}")
	table.insert(macros, "PLAIN")
	table.insert(macros, "{auth_authen}")
	table.insert(macros, user)
	return macros
end

-- Sends MAIL FROM with the given macros; returns the milter's reply.
function mw_mail(conn, sender, macros)
	if macros ~= nil and #macros > 0 then
		mt.macro(conn, SMFIC_MAIL, unpack(macros))
	end
	if mt.mailfrom(conn, sender) ~= nil then
		fail("mt.mailfrom() failed")
	end
	return mt.getreply(conn)
end

-- After MAIL: one From field, the end of the header and a short body;
-- every step and the end of the message must continue.
function mw_message(conn, from)
	if mt.header(conn, "From", from) ~= nil or
	   mt.getreply(conn) ~= SMFIR_CONTINUE or
	   mt.eoh(conn) ~= nil or mt.getreply(conn) ~= SMFIR_CONTINUE or
	   mt.bodystring(conn, "hello\r\n") ~= nil or
	   mt.getreply(conn) ~= SMFIR_CONTINUE or mt.eom(conn) ~= nil then
		fail("sending the message failed")
	end
	expect("end of message", mt.getreply(conn), SMFIR_CONTINUE)
end
