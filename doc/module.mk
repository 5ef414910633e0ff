# Man pages and the example policy.
MAN5 = doc/mailward.conf.5
MAN7 = $(if $(filter yes,$(WITH_DOVECOT)),doc/mailward-dovecot.7)
MAN8 = doc/mailward.8 $(if $(filter yes,$(WITH_MILTER)),doc/mailward-milter.8)

INSTALL_TARGETS += install-doc
UNINSTALL_TARGETS += uninstall-doc

.PHONY: install-doc uninstall-doc
install-doc:
	$(INSTALL) -d $(DESTDIR)$(mandir)/man5 $(DESTDIR)$(mandir)/man8
	$(INSTALL) -m 644 $(addprefix $(srcdir)/,$(MAN5)) $(DESTDIR)$(mandir)/man5/
	$(INSTALL) -m 644 $(addprefix $(srcdir)/,$(MAN8)) $(DESTDIR)$(mandir)/man8/
ifneq ($(MAN7),)
	$(INSTALL) -d $(DESTDIR)$(mandir)/man7
	$(INSTALL) -m 644 $(addprefix $(srcdir)/,$(MAN7)) $(DESTDIR)$(mandir)/man7/
endif
	$(INSTALL) -d $(DESTDIR)$(sysconfdir)/mailward
	$(INSTALL) -m 644 $(srcdir)/doc/mailward.conf.example \
		$(DESTDIR)$(sysconfdir)/mailward/mailward.conf.example

uninstall-doc:
	rm -f $(addprefix $(DESTDIR)$(mandir)/man5/,$(notdir $(MAN5))) \
		$(addprefix $(DESTDIR)$(mandir)/man7/,$(notdir $(MAN7))) \
		$(addprefix $(DESTDIR)$(mandir)/man8/,$(notdir $(MAN8))) \
		$(DESTDIR)$(sysconfdir)/mailward/mailward.conf.example
