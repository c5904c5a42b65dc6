build-smtpd-san/backend/session.o: backend/session.c conf/addr.h \
 conf/log.h backend/dotstuff.h backend/netio.h backend/proxy_hdr.h \
 backend/reply.h backend/session.h backend/handoff.h
conf/addr.h:
conf/log.h:
backend/dotstuff.h:
backend/netio.h:
backend/proxy_hdr.h:
backend/reply.h:
backend/session.h:
backend/handoff.h:
