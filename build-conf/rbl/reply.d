build-conf/rbl/reply.o: rbl/reply.c conf/conf.h conf/log.h conf/table.h \
 rbl/rbl_int.h conf/addr.h rbl/rbl.h
conf/conf.h:
conf/log.h:
conf/table.h:
rbl/rbl_int.h:
conf/addr.h:
rbl/rbl.h:
