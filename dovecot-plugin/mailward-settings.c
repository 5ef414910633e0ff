/* The passdb's settings for Dovecot 2.4; see mailward-settings.h. */

#include "lib.h"
#include "settings-parser.h"
#include "mailward-conn.h"
#include "mailward-settings.h"

#undef DEF
#define DEF(type, name) \
	SETTING_DEFINE_STRUCT_##type(#name, name, \
				     struct mailward_passdb_settings)

static const struct setting_define mailward_passdb_setting_defines[] = {
	/* also "passdb_mailward { }" at the top level, as for Dovecot's
	   own drivers */
	{ .type = SET_FILTER_NAME, .key = "passdb_mailward", },
	DEF(STR_NOVARS, mailward_policy),
	DEF(BOOL, mailward_nodelay),
	DEF(BOOL, mailward_quiet),

	SETTING_DEFINE_LIST_END
};

static const struct mailward_passdb_settings mailward_passdb_default_settings = {
	.mailward_policy = MAILWARD_DEFAULT_POLICY,
	.mailward_nodelay = FALSE,
	.mailward_quiet = FALSE,
};

/* The policy path must be absolute: the auth process does not run in
   the directory that the configuration was written in. */
static bool
mailward_passdb_settings_check(void *_set, pool_t pool ATTR_UNUSED,
			       const char **error_r)
{
	struct mailward_passdb_settings *set = _set;

	if (set->mailward_policy[0] != '/') {
		*error_r = t_strdup_printf(
			"mailward_policy: not an absolute path: %s",
			set->mailward_policy);
		return FALSE;
	}
	return TRUE;
}

const struct setting_parser_info mailward_passdb_setting_parser_info = {
	.name = "mailward_passdb",

	.defines = mailward_passdb_setting_defines,
	.defaults = &mailward_passdb_default_settings,
	.check_func = mailward_passdb_settings_check,

	.struct_size = sizeof(struct mailward_passdb_settings),
	.pool_offset1 = 1 + offsetof(struct mailward_passdb_settings, pool),
};
