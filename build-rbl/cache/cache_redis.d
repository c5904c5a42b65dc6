build-rbl/cache/cache_redis.o: cache/cache_redis.c cache/cache_int.h \
 cache/cache.h conf/conf.h conf/log.h
cache/cache_int.h:
cache/cache.h:
conf/conf.h:
conf/log.h:
