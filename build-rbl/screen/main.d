build-rbl/screen/main.o: screen/main.c conf/log.h screen/access.h \
 conf/conf.h screen/config_cmd.h screen/config_load.h screen/screen.h \
 screen/timerlist.h screen/daemon.h
conf/log.h:
screen/access.h:
conf/conf.h:
screen/config_cmd.h:
screen/config_load.h:
screen/screen.h:
screen/timerlist.h:
screen/daemon.h:
