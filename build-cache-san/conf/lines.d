build-cache-san/conf/lines.o: conf/lines.c conf/lines.h conf/conf.h
conf/lines.h:
conf/conf.h:
