build-rbl-san/conf/conf.o: conf/conf.c conf/conf.h conf/conf_int.h \
 conf/params.h conf/expand.h conf/lines.h conf/log.h
conf/conf.h:
conf/conf_int.h:
conf/params.h:
conf/expand.h:
conf/lines.h:
conf/log.h:
