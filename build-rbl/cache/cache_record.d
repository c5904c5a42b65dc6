build-rbl/cache/cache_record.o: cache/cache_record.c cache/cache.h \
 conf/conf.h
cache/cache.h:
conf/conf.h:
