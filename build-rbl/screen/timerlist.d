build-rbl/screen/timerlist.o: screen/timerlist.c screen/timerlist.h
screen/timerlist.h:
