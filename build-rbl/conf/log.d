build-rbl/conf/log.o: conf/log.c conf/log.h
conf/log.h:
