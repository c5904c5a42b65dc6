build-rbl/conf/params.o: conf/params.c conf/params.h conf/conf.h
conf/params.h:
conf/conf.h:
