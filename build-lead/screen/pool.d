build-lead/screen/pool.o: screen/pool.c backend/handoff.h conf/addr.h \
 conf/log.h screen/clients.h cache/cache.h conf/conf.h screen/listener.h \
 screen/pool.h screen/screen.h screen/timerlist.h screen/session.h
backend/handoff.h:
conf/addr.h:
conf/log.h:
screen/clients.h:
cache/cache.h:
conf/conf.h:
screen/listener.h:
screen/pool.h:
screen/screen.h:
screen/timerlist.h:
screen/session.h:
