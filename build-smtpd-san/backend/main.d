build-smtpd-san/backend/main.o: backend/main.c conf/addr.h conf/conf.h \
 conf/log.h backend/session.h backend/handoff.h backend/worker.h
conf/addr.h:
conf/conf.h:
conf/log.h:
backend/session.h:
backend/handoff.h:
backend/worker.h:
