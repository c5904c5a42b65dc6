build-smtpd-san/conf/addr.o: conf/addr.c conf/addr.h
conf/addr.h:
