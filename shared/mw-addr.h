#ifndef MW_ADDR_H
#define MW_ADDR_H

#include "mw-policy.h"
#include "mw-util.h"

/* An address with a prefix length: a network as the policy writes it. */
struct mw_prefix {
	struct mw_addr addr;	/* host bits already cleared */
	unsigned int len;	/* 0..32 or 0..128 */
};

#define MW_PREFIX_STRLEN (MW_ADDR_STRLEN + 4)

/* Parse "ADDR", "ADDR/LEN" or "IPv4/DOTTED.NETMASK".  A bare address is a
   host (/32, /128).  Host bits below the prefix are cleared and reported
   through *host_bits_r, so the caller can warn: 192.0.2.1/24 is almost
   always a typo, but a harmless one.  An IPv4-mapped IPv6 prefix of /96 or
   longer becomes the IPv4 prefix it stands for.  Returns 0, or -1 with
   the reason in error[]. */
int mw_prefix_parse(const char *str, struct mw_prefix *prefix_r,
		    bool *host_bits_r, char *error, size_t error_size);
const char *mw_prefix_to_str(const struct mw_prefix *prefix, char *buf,
			     size_t size);

#endif
