build-rbl/backend/handoff.o: backend/handoff.c backend/handoff.h
backend/handoff.h:
