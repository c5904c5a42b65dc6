build-rbl/screen/listener.o: screen/listener.c conf/addr.h conf/log.h \
 screen/listener.h conf/conf.h screen/screen.h screen/timerlist.h \
 screen/session.h
conf/addr.h:
conf/log.h:
screen/listener.h:
conf/conf.h:
screen/screen.h:
screen/timerlist.h:
screen/session.h:
