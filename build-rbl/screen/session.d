build-rbl/screen/session.o: screen/session.c conf/addr.h conf/log.h \
 cache/cache.h conf/conf.h rbl/rbl.h screen/access.h screen/clients.h \
 screen/engine.h screen/pool.h screen/screen.h screen/timerlist.h \
 screen/session.h
conf/addr.h:
conf/log.h:
cache/cache.h:
conf/conf.h:
rbl/rbl.h:
screen/access.h:
screen/clients.h:
screen/engine.h:
screen/pool.h:
screen/screen.h:
screen/timerlist.h:
screen/session.h:
