build-conf/backend/reply.o: backend/reply.c backend/reply.h \
 backend/netio.h
backend/reply.h:
backend/netio.h:
