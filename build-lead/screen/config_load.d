build-lead/screen/config_load.o: screen/config_load.c conf/log.h \
 conf/table.h conf/conf.h screen/config_load.h screen/screen.h \
 screen/timerlist.h
conf/log.h:
conf/table.h:
conf/conf.h:
screen/config_load.h:
screen/screen.h:
screen/timerlist.h:
