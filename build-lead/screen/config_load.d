build-lead/screen/config_load.o: screen/config_load.c cache/cache.h \
 conf/conf.h conf/log.h conf/table.h screen/config_load.h screen/screen.h \
 screen/timerlist.h
cache/cache.h:
conf/conf.h:
conf/log.h:
conf/table.h:
screen/config_load.h:
screen/screen.h:
screen/timerlist.h:
