build-conf/rbl/lookup.o: rbl/lookup.c conf/log.h rbl/rbl_int.h \
 conf/addr.h rbl/rbl.h
conf/log.h:
rbl/rbl_int.h:
conf/addr.h:
rbl/rbl.h:
