build-rbl/screen/config_cmd.o: screen/config_cmd.c conf/addr.h conf/log.h \
 screen/access.h conf/conf.h screen/config_cmd.h screen/config_load.h \
 screen/screen.h screen/timerlist.h
conf/addr.h:
conf/log.h:
screen/access.h:
conf/conf.h:
screen/config_cmd.h:
screen/config_load.h:
screen/screen.h:
screen/timerlist.h:
