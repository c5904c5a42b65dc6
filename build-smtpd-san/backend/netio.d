build-smtpd-san/backend/netio.o: backend/netio.c backend/netio.h
backend/netio.h:
