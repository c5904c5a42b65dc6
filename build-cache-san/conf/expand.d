build-cache-san/conf/expand.o: conf/expand.c conf/expand.h conf/conf.h
conf/expand.h:
conf/conf.h:
