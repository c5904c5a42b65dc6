build-rbl-san/rbl/check.o: rbl/check.c conf/conf.h rbl/rbl_int.h \
 conf/addr.h rbl/rbl.h
conf/conf.h:
rbl/rbl_int.h:
conf/addr.h:
rbl/rbl.h:
