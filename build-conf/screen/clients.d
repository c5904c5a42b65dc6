build-conf/screen/clients.o: screen/clients.c conf/log.h screen/clients.h
conf/log.h:
screen/clients.h:
