build-conf/rbl/replycheck.o: rbl/replycheck.c rbl/rbl_int.h conf/addr.h \
 rbl/rbl.h
rbl/rbl_int.h:
conf/addr.h:
rbl/rbl.h:
