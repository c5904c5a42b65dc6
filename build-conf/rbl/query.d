build-conf/rbl/query.o: rbl/query.c conf/conf.h conf/log.h rbl/rbl_int.h \
 conf/addr.h rbl/rbl.h
conf/conf.h:
conf/log.h:
rbl/rbl_int.h:
conf/addr.h:
rbl/rbl.h:
