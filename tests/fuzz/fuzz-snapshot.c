/* libFuzzer target: any bytes as a policy snapshot image.  Mapping must
   refuse what is not a valid image and never crash, leak or read out of
   bounds; an image it accepts must answer decisions.  The hashes are
   recomputed first, or nearly every mutation would stop at the checksum
   and the structure checks behind it would never be reached. */

#include "mw-snapshot.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const char *const services[] = { "imap", "pop3", "smtp" };
	struct mw_snapshot *snap;
	struct mw_decision dec;
	struct mw_conn conn;
	unsigned char *copy;
	char *error = NULL;
	unsigned int i;

	/* aligned as a mapping is */
	if (posix_memalign((void **)&copy, 16, size + 1) != 0)
		return 0;
	memcpy(copy, data, size);
	mw_snapshot_reseal(copy, size);
	if (mw_snapshot_from_memory(copy, size, size % 2 == 0 ?
				    MW_SNAPSHOT_VERIFY_DATA : 0,
				    &snap, &error) < 0) {
		free(error);
		free(copy);
		return 0;
	}
	for (i = 0; i < 3; i++) {
		mw_conn_init(&conn);
		conn.service = services[i];
		(void)mw_addr_parse(i == 1 ? "2001:db8::1" : "192.0.2.1",
				    &conn.remote_ip);
		conn.mech = "PLAIN";
		conn.tls = MW_TLS_NONE;
		(void)mw_decide(mw_snapshot_policy(snap), &conn, &dec);
		(void)mw_decide_pending_host(mw_snapshot_policy(snap), &conn,
					     &dec);
		conn.host_state = MW_HOST_FOUND;
		conn.host = "a.contoso.com";
		(void)mw_decide(mw_snapshot_policy(snap), &conn, &dec);
	}
	(void)mw_snapshot_version(snap);
	mw_snapshot_free(&snap);
	free(copy);
	return 0;
}
