# Man pages and the example policy.
MAN5 = doc/mailward.conf.5
MAN8 = doc/mailward.8

INSTALL_TARGETS += install-doc
UNINSTALL_TARGETS += uninstall-doc

.PHONY: install-doc uninstall-doc
install-doc:
	$(INSTALL) -d $(DESTDIR)$(mandir)/man5 $(DESTDIR)$(mandir)/man8
	$(INSTALL) -m 644 $(srcdir)/doc/mailward.conf.5 $(DESTDIR)$(mandir)/man5/
	$(INSTALL) -m 644 $(srcdir)/doc/mailward.8 $(DESTDIR)$(mandir)/man8/
	$(INSTALL) -d $(DESTDIR)$(sysconfdir)/mailward
	$(INSTALL) -m 644 $(srcdir)/doc/mailward.conf.example \
		$(DESTDIR)$(sysconfdir)/mailward/mailward.conf.example

uninstall-doc:
	rm -f $(DESTDIR)$(mandir)/man5/mailward.conf.5 \
		$(DESTDIR)$(mandir)/man8/mailward.8 \
		$(DESTDIR)$(sysconfdir)/mailward/mailward.conf.example
