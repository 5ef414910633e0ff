/* libFuzzer target: any bytes as a policy file.  Loading must never
   crash, leak or read out of bounds, and a loaded policy must print and
   decide. */

#include "mw-policy.h"

#include <stdio.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct mw_policy *policy;
	struct mw_diags *diags;
	struct mw_decision dec;
	struct mw_conn conn;
	FILE *null;

	if (mw_policy_load_buffer("fuzz.conf", (const char *)data, size,
				  &policy, &diags) == 0) {
		null = fopen("/dev/null", "w");
		if (null != NULL) {
			mw_policy_print(policy, null);
			fclose(null);
		}
		mw_conn_init(&conn);
		conn.service = "imap";
		(void)mw_addr_parse("192.0.2.1", &conn.remote_ip);
		conn.mech = "PLAIN";
		conn.tls = MW_TLS_NONE;
		(void)mw_decide(policy, &conn, &dec);
		mw_policy_unref(&policy);
	}
	(void)mw_diags_first_error(diags);
	mw_diags_free(&diags);
	return 0;
}
