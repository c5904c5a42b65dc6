build-conf/screen/daemon.o: screen/daemon.c conf/log.h screen/access.h \
 conf/conf.h screen/config_load.h screen/screen.h screen/timerlist.h \
 screen/daemon.h screen/listener.h screen/pool.h screen/session.h
conf/log.h:
screen/access.h:
conf/conf.h:
screen/config_load.h:
screen/screen.h:
screen/timerlist.h:
screen/daemon.h:
screen/listener.h:
screen/pool.h:
screen/session.h:
