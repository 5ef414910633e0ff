/*
 * A message processor for the tests of the processor hooks (the place
 * where S/MIME signing plugs in): it takes part in messages of
 * authenticated senders, counts headers and body bytes, and adds a header
 * with what it saw at the end of the message.  A message with a header
 * "X-Test-Fail" makes it fail at the end, one with "X-Test-Fail-Body"
 * fails on its body as a full spool disk would (ENOSPC); both must
 * tempfail the message and log why.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <strings.h>

#include "milter-processor.h"

struct test_processor {
	unsigned int headers;
	size_t body_bytes;
	bool fail, fail_body;
	char error[128];
	const char *login;	/* points into the message */
};

static int test_begin(struct mwm_msg *msg, void **ctx_r)
{
	struct test_processor *tp;

	*ctx_r = NULL;
	if (msg->auth_authen == NULL)
		return 0;
	tp = calloc(1, sizeof(*tp));
	if (tp == NULL)
		return -1;
	tp->login = msg->auth_authen;
	*ctx_r = tp;
	return 0;
}

static int test_header(void *ctx, const char *name, const char *value)
{
	struct test_processor *tp = ctx;

	tp->headers++;
	if (strcasecmp(name, "X-Test-Fail") == 0)
		tp->fail = true;
	if (strcasecmp(name, "X-Test-Fail-Body") == 0)
		tp->fail_body = true;
	return 0;
}

static int test_eoh(void *ctx)
{
	return 0;
}

static int test_body(void *ctx, const unsigned char *data, size_t size)
{
	struct test_processor *tp = ctx;

	tp->body_bytes += size;
	if (tp->fail_body) {
		snprintf(tp->error, sizeof(tp->error),
			 "spooling failed: write: %s", strerror(ENOSPC));
		return -1;
	}
	return 0;
}

static int test_eom(void *ctx, struct mwm_msg *msg, SMFICTX *smfi)
{
	struct test_processor *tp = ctx;
	char value[128];

	if (tp->fail)
		return -1;
	snprintf(value, sizeof(value), "login=%s headers=%u body=%zu",
		 tp->login, tp->headers, tp->body_bytes);
	return smfi_addheader(smfi, "X-Mailward-Test", value) == MI_SUCCESS ?
		0 : -1;
}

static const char *test_error(void *ctx)
{
	struct test_processor *tp = ctx;

	return tp->error[0] != '\0' ? tp->error : NULL;
}

static void test_end(void *ctx)
{
	free(ctx);
}

const struct mwm_processor mwm_test_processor = {
	.name = "test-processor",
	.actions = SMFIF_ADDHDRS,
	.msg_begin = test_begin,
	.header = test_header,
	.eoh = test_eoh,
	.body = test_body,
	.eom = test_eom,
	.msg_end = test_end,
	.error = test_error,
};
