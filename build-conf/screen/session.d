build-conf/screen/session.o: screen/session.c conf/addr.h conf/log.h \
 screen/access.h conf/conf.h screen/clients.h screen/engine.h \
 screen/pool.h screen/screen.h screen/timerlist.h screen/session.h
conf/addr.h:
conf/log.h:
screen/access.h:
conf/conf.h:
screen/clients.h:
screen/engine.h:
screen/pool.h:
screen/screen.h:
screen/timerlist.h:
screen/session.h:
