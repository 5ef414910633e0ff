#ifndef MAILWARD_SETTINGS_H
#define MAILWARD_SETTINGS_H

/* Dovecot 2.4 only: the passdb's settings.  Dovecot's config process
   refuses a setting that no loaded settings struct defines, so the same
   definition is in two modules: the passdb reads it with settings_get(),
   and libmailward_settings.so (mailward-settings-module.c) tells the
   config process, and so doveconf, about it.

     passdb mailward {
       mailward_policy = /etc/mailward/mailward.conf
       mailward_nodelay = no
       mailward_quiet = no
     } */

#include "settings-parser.h"

struct mailward_passdb_settings {
	pool_t pool;
	const char *mailward_policy;
	bool mailward_nodelay;
	bool mailward_quiet;
};

extern const struct setting_parser_info mailward_passdb_setting_parser_info;

#endif
