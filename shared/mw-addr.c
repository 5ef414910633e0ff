#include "mw-addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const uint8_t mw_v4mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

void mw_addr_from_ipv4(const void *in_addr4, struct mw_addr *addr_r)
{
	memset(addr_r, 0, sizeof(*addr_r));
	addr_r->family = MW_AF_INET4;
	memcpy(addr_r->bytes, in_addr4, 4);
}

void mw_addr_from_ipv6(const void *in6_addr16, struct mw_addr *addr_r)
{
	const uint8_t *bytes = in6_addr16;

	if (memcmp(bytes, mw_v4mapped_prefix, sizeof(mw_v4mapped_prefix)) == 0) {
		mw_addr_from_ipv4(bytes + 12, addr_r);
		return;
	}
	addr_r->family = MW_AF_INET6;
	memcpy(addr_r->bytes, bytes, 16);
}

int mw_addr_from_sockaddr(const struct sockaddr *sa, struct mw_addr *addr_r)
{
	memset(addr_r, 0, sizeof(*addr_r));
	if (sa == NULL)
		return -1;
	switch (sa->sa_family) {
	case AF_INET:
		mw_addr_from_ipv4(&((const struct sockaddr_in *)(const void *)sa)->sin_addr,
				  addr_r);
		return 0;
	case AF_INET6:
		mw_addr_from_ipv6(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
				  addr_r);
		return 0;
	default:
		return -1;
	}
}

int mw_addr_parse(const char *str, struct mw_addr *addr_r)
{
	uint8_t bytes[16];

	memset(addr_r, 0, sizeof(*addr_r));
	if (strchr(str, ':') == NULL) {
		if (inet_pton(AF_INET, str, bytes) != 1)
			return -1;
		mw_addr_from_ipv4(bytes, addr_r);
		return 0;
	}
	if (inet_pton(AF_INET6, str, bytes) != 1)
		return -1;
	mw_addr_from_ipv6(bytes, addr_r);
	return 0;
}

const char *mw_addr_to_str(const struct mw_addr *addr, char *buf, size_t size)
{
	int af = addr->family == MW_AF_INET4 ? AF_INET : AF_INET6;

	if (addr->family == MW_AF_NONE ||
	    inet_ntop(af, addr->bytes, buf, (socklen_t)size) == NULL)
		snprintf(buf, size, "(unknown)");
	return buf;
}

static unsigned int mw_addr_bits(const struct mw_addr *addr)
{
	return addr->family == MW_AF_INET4 ? 32 : 128;
}

/* Clears the bits after len; returns true if any was set. */
static bool mw_addr_clear_host_bits(struct mw_addr *addr, unsigned int len)
{
	unsigned int i, nbytes = mw_addr_bits(addr) / 8;
	bool had_bits = false;
	uint8_t mask;

	for (i = 0; i < nbytes; i++) {
		if (len >= (i + 1) * 8)
			continue;
		mask = len <= i * 8 ? 0 : (uint8_t)(0xff << (8 - (len - i * 8)));
		if ((addr->bytes[i] & ~mask) != 0)
			had_bits = true;
		addr->bytes[i] &= mask;
	}
	return had_bits;
}

/* A dotted netmask must be a run of ones followed by zeros: anything else
   cannot be a prefix, and matching on it is never what was meant. */
static int mw_netmask_to_len(const char *str, unsigned int *len_r)
{
	uint8_t mask[4];
	uint32_t value;
	unsigned int len;

	if (inet_pton(AF_INET, str, mask) != 1)
		return -1;
	value = (uint32_t)mask[0] << 24 | (uint32_t)mask[1] << 16 |
		(uint32_t)mask[2] << 8 | mask[3];
	for (len = 0; len < 32 && (value & (UINT32_C(1) << (31 - len))) != 0; len++)
		;
	if (len < 32 && (value & ((UINT32_C(1) << (32 - len)) - 1)) != 0)
		return -2;
	*len_r = len;
	return 0;
}

static bool mw_all_digits(const char *str)
{
	if (*str == '\0')
		return false;
	for (; *str != '\0'; str++) {
		if (*str < '0' || *str > '9')
			return false;
	}
	return true;
}

int mw_prefix_parse(const char *str, struct mw_prefix *prefix_r,
		    bool *host_bits_r, char *error, size_t error_size)
{
	char addr_buf[MW_ADDR_STRLEN + 1];
	const char *slash = strchr(str, '/');
	size_t addr_len = slash == NULL ? strlen(str) : (size_t)(slash - str);
	bool was_v6;
	unsigned int len, max;
	int ret;

	*host_bits_r = false;
	memset(prefix_r, 0, sizeof(*prefix_r));
	if (addr_len == 0 || addr_len >= sizeof(addr_buf)) {
		snprintf(error, error_size, "'%s' is not an IP address", str);
		return -1;
	}
	memcpy(addr_buf, str, addr_len);
	addr_buf[addr_len] = '\0';
	was_v6 = strchr(addr_buf, ':') != NULL;
	if (mw_addr_parse(addr_buf, &prefix_r->addr) < 0) {
		snprintf(error, error_size, "'%s' is not an IP address", addr_buf);
		return -1;
	}
	max = was_v6 ? 128 : 32;

	if (slash == NULL) {
		len = max;
	} else if (mw_all_digits(slash + 1)) {
		if (strlen(slash + 1) > 3 || (len = (unsigned int)atoi(slash + 1)) > max) {
			snprintf(error, error_size,
				 "prefix length /%s is out of range for %s (0-%u)",
				 slash + 1, was_v6 ? "IPv6" : "IPv4", max);
			return -1;
		}
	} else if (!was_v6 && strchr(slash + 1, '.') != NULL) {
		ret = mw_netmask_to_len(slash + 1, &len);
		if (ret == -1) {
			snprintf(error, error_size, "'%s' is not a netmask",
				 slash + 1);
			return -1;
		}
		if (ret == -2) {
			snprintf(error, error_size,
				 "netmask %s is not contiguous", slash + 1);
			return -1;
		}
	} else {
		snprintf(error, error_size,
			 "'%s' is not a prefix length%s", slash + 1,
			 was_v6 ? "" : " or a netmask");
		return -1;
	}

	/* ::ffff:192.0.2.0/120 was stored as 192.0.2.0: shift the length
	   with it.  A shorter mapped prefix spans non-mapped space and
	   stays as written (and so matches nothing IPv4). */
	if (was_v6 && prefix_r->addr.family == MW_AF_INET4) {
		if (len >= 96) {
			len -= 96;
		} else {
			prefix_r->addr.family = MW_AF_INET6;
			memcpy(prefix_r->addr.bytes + 12, prefix_r->addr.bytes, 4);
			memcpy(prefix_r->addr.bytes, mw_v4mapped_prefix, 12);
		}
	}
	prefix_r->len = len;
	*host_bits_r = mw_addr_clear_host_bits(&prefix_r->addr, len);
	return 0;
}

const char *mw_prefix_to_str(const struct mw_prefix *prefix, char *buf,
			     size_t size)
{
	char addr[MW_ADDR_STRLEN];

	mw_addr_to_str(&prefix->addr, addr, sizeof(addr));
	if (prefix->len == mw_addr_bits(&prefix->addr))
		snprintf(buf, size, "%s", addr);
	else
		snprintf(buf, size, "%s/%u", addr, prefix->len);
	return buf;
}
