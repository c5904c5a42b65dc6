build-conf/backend/dotstuff.o: backend/dotstuff.c backend/dotstuff.h
backend/dotstuff.h:
