/* The passdb's options on Dovecot 2.3 (the args string) and 2.4
   (settings); see mailward-compat.h. */

#include "auth-common.h"
#include "mailward-conn.h"
#include "mailward-compat.h"

#ifdef MAILWARD_DOVECOT_2_4

#include "settings.h"
#include "mailward-settings.h"

int mailward_passdb_options_get(pool_t pool, struct event *event,
				struct mailward_passdb_options *options_r,
				const char **error_r)
{
	const struct mailward_passdb_settings *set;

	if (settings_get(event, &mailward_passdb_setting_parser_info, 0,
			 &set, error_r) < 0)
		return -1;
	options_r->policy_path = p_strdup(pool, set->mailward_policy);
	options_r->nodelay = set->mailward_nodelay;
	options_r->quiet = set->mailward_quiet;
	settings_free(set);
	return 0;
}

#else

int mailward_passdb_options_parse(pool_t pool, const char *args,
				  struct mailward_passdb_options *options_r,
				  const char **error_r)
{
	const char *const *tmp;

	i_zero(options_r);
	options_r->policy_path = MAILWARD_DEFAULT_POLICY;
	for (tmp = t_strsplit_spaces(args, " "); *tmp != NULL; tmp++) {
		if (strcmp(*tmp, "nodelay") == 0)
			options_r->nodelay = TRUE;
		else if (strcmp(*tmp, "quiet") == 0)
			options_r->quiet = TRUE;
		else if (**tmp == '/')
			options_r->policy_path = p_strdup(pool, *tmp);
		else {
			*error_r = t_strdup_printf("Unknown parameter: %s",
						   *tmp);
			return -1;
		}
	}
	return 0;
}

#endif
