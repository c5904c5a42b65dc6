build-smtpd-san/conf/validate.o: conf/validate.c conf/addr.h \
 conf/conf_int.h conf/conf.h conf/params.h conf/expand.h conf/lines.h \
 conf/log.h conf/table.h
conf/addr.h:
conf/conf_int.h:
conf/conf.h:
conf/params.h:
conf/expand.h:
conf/lines.h:
conf/log.h:
conf/table.h:
