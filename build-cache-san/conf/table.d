build-cache-san/conf/table.o: conf/table.c conf/addr.h conf/lines.h \
 conf/conf.h conf/log.h conf/table.h
conf/addr.h:
conf/lines.h:
conf/conf.h:
conf/log.h:
conf/table.h:
