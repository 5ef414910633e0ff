# The Dovecot side: the passdb driver that the auth process loads
# (libauthdb_mailward.so) and the login plugin (lib95_mailward_login_plugin.so);
# for Dovecot 2.4 also the settings module that makes the config process
# accept the passdb's settings (libmailward_settings.so).
#
# Both are built against the packaged Dovecot headers.  They are linked
# without -z defs on purpose: Dovecot's symbols resolve from the auth or
# login binary that dlopen()s them.

DOVECOT_AUTH_MODULE = $(B)/dovecot-plugin/libauthdb_mailward.so
DOVECOT_LOGIN_PLUGIN = $(B)/dovecot-plugin/lib95_mailward_login_plugin.so
DOVECOT_SETTINGS_MODULE = $(B)/dovecot-plugin/libmailward_settings.so

DOVECOT_AUTH_SRCS = \
	dovecot-plugin/passdb-mailward.c \
	dovecot-plugin/mailward-checks.c \
	dovecot-plugin/mailward-compat.c \
	dovecot-plugin/mailward-fcrdns.c \
	dovecot-plugin/mailward-log.c \
	dovecot-plugin/mailward-conn.c \
	dovecot-plugin/mailward-snapshot.c

DOVECOT_LOGIN_SRCS = \
	dovecot-plugin/mailward-login-plugin.c \
	dovecot-plugin/mailward-checks-login.c \
	dovecot-plugin/mailward-log.c \
	dovecot-plugin/mailward-conn.c \
	dovecot-plugin/mailward-snapshot.c

DOVECOT_SETTINGS_SRCS = \
	dovecot-plugin/mailward-settings-module.c \
	dovecot-plugin/mailward-settings.c

DOVECOT_MODULES = $(DOVECOT_AUTH_MODULE) $(DOVECOT_LOGIN_PLUGIN)
DOVECOT_COMPAT_CFLAGS =
ifeq ($(DOVECOT_API),2.4)
DOVECOT_AUTH_SRCS += dovecot-plugin/mailward-settings.c
DOVECOT_MODULES += $(DOVECOT_SETTINGS_MODULE)
DOVECOT_COMPAT_CFLAGS = -DMAILWARD_DOVECOT_2_4
endif

DOVECOT_AUTH_OBJS = $(DOVECOT_AUTH_SRCS:%.c=$(B)/%.o)
DOVECOT_LOGIN_OBJS = $(DOVECOT_LOGIN_SRCS:%.c=$(B)/%.o)
DOVECOT_SETTINGS_OBJS = $(DOVECOT_SETTINGS_SRCS:%.c=$(B)/%.o)

# Dovecot's headers want config.h (lib.h includes it) and the ABI string
# the modules export must be the one of the Dovecot they are loaded into.
$(B)/dovecot-plugin/%.o: EXTRA_CFLAGS = $(DOVECOT_INCLUDE) -DHAVE_CONFIG_H \
	$(DOVECOT_COMPAT_CFLAGS)

ALL_TARGETS += $(DOVECOT_MODULES)
INSTALL_TARGETS += install-dovecot
UNINSTALL_TARGETS += uninstall-dovecot
# The integration tests, then the same modules in a Dovecot that runs
# its auth and imap-login processes under valgrind.  Neither is in
# SAN_TESTS: the packaged Dovecot cannot load sanitizer-built modules,
# and valgrind cannot run them either.
TESTS += $(srcdir)/tests/dovecot/test-dovecot.sh \
	$(srcdir)/tests/dovecot/test-dovecot-policy.sh \
	$(srcdir)/tests/dovecot/test-dovecot-reload.sh \
	$(srcdir)/tests/dovecot/test-dovecot-checks.sh \
	$(srcdir)/tests/dovecot/valgrind-dovecot.sh \
	$(srcdir)/tests/dovecot/test-compat.sh
# On Debian 12 also in a Debian 13 root, the two side by side.
BENCH_TARGETS += bench-dovecot-releases
# The login plugin's cost per connection by the size of the policy.
BENCH_TARGETS += bench-dovecot-login

$(DOVECOT_AUTH_MODULE): $(DOVECOT_AUTH_OBJS) $(MW_POLICY_LIB)
	$(CC) $(ALL_CFLAGS) -shared -o $@ $(DOVECOT_AUTH_OBJS) \
		$(MW_POLICY_LIB) $(ALL_LDFLAGS)

$(DOVECOT_LOGIN_PLUGIN): $(DOVECOT_LOGIN_OBJS) $(MW_POLICY_LIB)
	$(CC) $(ALL_CFLAGS) -shared -o $@ $(DOVECOT_LOGIN_OBJS) \
		$(MW_POLICY_LIB) $(ALL_LDFLAGS)

# The settings module is a table and calls no library, so the linker would
# record no dependency at all; it names libc as every Debian shared object
# must (lintian: shared-library-lacks-prerequisites).
$(DOVECOT_SETTINGS_MODULE): $(DOVECOT_SETTINGS_OBJS)
	$(CC) $(ALL_CFLAGS) -shared -o $@ $(DOVECOT_SETTINGS_OBJS) $(ALL_LDFLAGS) \
		-Wl,--no-as-needed -lc

# The conf.d snippet only includes (commented out) the file with the
# settings, which is installed with the modules and goes away with them,
# so that Dovecot never names modules that are not there.  The settings
# are written for the Dovecot version built against.
DOVECOT_CONF_SETTINGS = $(srcdir)/dovecot-plugin/conf.d/dovecot-mailward-$(DOVECOT_API).conf.in
DOVECOT_CONF_SUBST = sed -e 's|@sysconfdir@|$(sysconfdir)|g' \
	-e 's|@pkgdatadir@|$(datarootdir)/mailward|g'

.PHONY: install-dovecot uninstall-dovecot bench-dovecot bench-dovecot-releases \
	bench-dovecot-login
install-dovecot: $(DOVECOT_MODULES)
	$(INSTALL) -d $(DESTDIR)$(DOVECOT_MODULEDIR)/auth \
		$(DESTDIR)$(DOVECOT_MODULEDIR)/login \
		$(DESTDIR)$(sysconfdir)/dovecot/conf.d
	$(INSTALL) -m 644 $(DOVECOT_AUTH_MODULE) \
		$(DESTDIR)$(DOVECOT_MODULEDIR)/auth/
	$(INSTALL) -m 644 $(DOVECOT_LOGIN_PLUGIN) \
		$(DESTDIR)$(DOVECOT_MODULEDIR)/login/
ifeq ($(DOVECOT_API),2.4)
	$(INSTALL) -d $(DESTDIR)$(DOVECOT_MODULEDIR)/settings
	$(INSTALL) -m 644 $(DOVECOT_SETTINGS_MODULE) \
		$(DESTDIR)$(DOVECOT_MODULEDIR)/settings/
endif
	$(INSTALL) -d $(DESTDIR)$(datarootdir)/mailward
	$(DOVECOT_CONF_SUBST) $(srcdir)/dovecot-plugin/conf.d/05-mailward.conf.in \
		>$(DESTDIR)$(sysconfdir)/dovecot/conf.d/05-mailward.conf
	$(DOVECOT_CONF_SUBST) $(DOVECOT_CONF_SETTINGS) \
		>$(DESTDIR)$(datarootdir)/mailward/dovecot-mailward.conf
	chmod 644 $(DESTDIR)$(sysconfdir)/dovecot/conf.d/05-mailward.conf \
		$(DESTDIR)$(datarootdir)/mailward/dovecot-mailward.conf

uninstall-dovecot:
	rm -f $(DESTDIR)$(DOVECOT_MODULEDIR)/auth/libauthdb_mailward.so \
		$(DESTDIR)$(DOVECOT_MODULEDIR)/login/lib95_mailward_login_plugin.so \
		$(DESTDIR)$(DOVECOT_MODULEDIR)/settings/libmailward_settings.so \
		$(DESTDIR)$(sysconfdir)/dovecot/conf.d/05-mailward.conf \
		$(DESTDIR)$(datarootdir)/mailward/dovecot-mailward.conf

bench-dovecot: $(DOVECOT_MODULES)
	MW_SRCDIR=$(srcdir) MW_BUILDDIR=$(B) \
		$(srcdir)/tests/dovecot/bench-dovecot.sh

bench-dovecot-login: $(DOVECOT_MODULES) $(MAILWARD_BIN) \
		$(B)/tests/bench/bench-snapshot
	MW_SRCDIR=$(srcdir) MW_BUILDDIR=$(B) \
		$(srcdir)/tests/dovecot/bench-login.sh

bench-dovecot-releases: $(DOVECOT_MODULES)
	+@$(srcdir)/tests/dovecot/bench-releases "$(MAKE)"
