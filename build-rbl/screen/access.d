build-rbl/screen/access.o: screen/access.c conf/addr.h conf/log.h \
 conf/table.h conf/conf.h screen/access.h
conf/addr.h:
conf/log.h:
conf/table.h:
conf/conf.h:
screen/access.h:
