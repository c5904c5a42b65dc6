build-rbl-san/rbl/site.o: rbl/site.c rbl/rbl_int.h conf/addr.h rbl/rbl.h
rbl/rbl_int.h:
conf/addr.h:
rbl/rbl.h:
