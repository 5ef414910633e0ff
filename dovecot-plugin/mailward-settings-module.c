/* libmailward_settings.so, for Dovecot 2.4's config process: it loads
   every module in $(moduledir)/settings and accepts the settings of the
   structs that <module>_set_infos lists.  Without it, doveconf and
   dovecot refuse "mailward_policy" as an unknown setting. */

#include "lib.h"
#include "mailward-settings.h"

extern const char *mailward_settings_version;
extern const struct setting_parser_info *mailward_settings_set_infos[];

const char *mailward_settings_version = DOVECOT_ABI_VERSION;

const struct setting_parser_info *mailward_settings_set_infos[] = {
	&mailward_passdb_setting_parser_info,
	NULL
};
