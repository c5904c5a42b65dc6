build-smtpd-san/backend/proxy_hdr.o: backend/proxy_hdr.c \
 backend/proxy_hdr.h
backend/proxy_hdr.h:
