build-conf/screen/config_load.o: screen/config_load.c conf/log.h \
 screen/config_load.h conf/conf.h screen/screen.h screen/timerlist.h
conf/log.h:
screen/config_load.h:
conf/conf.h:
screen/screen.h:
screen/timerlist.h:
