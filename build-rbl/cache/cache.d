build-rbl/cache/cache.o: cache/cache.c cache/cache_int.h cache/cache.h \
 conf/conf.h conf/log.h
cache/cache_int.h:
cache/cache.h:
conf/conf.h:
conf/log.h:
