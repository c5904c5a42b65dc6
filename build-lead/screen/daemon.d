build-lead/screen/daemon.o: screen/daemon.c cache/cache.h conf/conf.h \
 conf/log.h rbl/rbl.h screen/access.h screen/config_load.h \
 screen/screen.h screen/timerlist.h screen/daemon.h screen/listener.h \
 screen/pool.h screen/session.h
cache/cache.h:
conf/conf.h:
conf/log.h:
rbl/rbl.h:
screen/access.h:
screen/config_load.h:
screen/screen.h:
screen/timerlist.h:
screen/daemon.h:
screen/listener.h:
screen/pool.h:
screen/session.h:
