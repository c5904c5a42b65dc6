build-rbl/screen/engine.o: screen/engine.c conf/log.h screen/engine.h \
 screen/screen.h conf/conf.h screen/timerlist.h screen/session.h
conf/log.h:
screen/engine.h:
screen/screen.h:
conf/conf.h:
screen/timerlist.h:
screen/session.h:
