build-conf/backend/netio.o: backend/netio.c backend/netio.h
backend/netio.h:
