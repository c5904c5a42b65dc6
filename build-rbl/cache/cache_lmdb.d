build-rbl/cache/cache_lmdb.o: cache/cache_lmdb.c cache/cache_int.h \
 cache/cache.h conf/conf.h conf/log.h
cache/cache_int.h:
cache/cache.h:
conf/conf.h:
conf/log.h:
