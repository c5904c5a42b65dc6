build-smtpd-san/backend/handoff.o: backend/handoff.c backend/handoff.h
backend/handoff.h:
