build-smtpd-san/backend/worker.o: backend/worker.c conf/log.h \
 backend/handoff.h backend/netio.h backend/worker.h backend/session.h \
 conf/addr.h
conf/log.h:
backend/handoff.h:
backend/netio.h:
backend/worker.h:
backend/session.h:
conf/addr.h:
