build-rbl/screen/clients.o: screen/clients.c conf/log.h screen/clients.h \
 cache/cache.h conf/conf.h
conf/log.h:
screen/clients.h:
cache/cache.h:
conf/conf.h:
