"""Rank 1 exits with code 3; rank 0 writes its PID into the file it is given, then waits far longer than any
test (as a rank does in a collective whose partner is gone)."""

import os
import sys
import time

if os.environ["PMI_RANK"] == "1":
    time.sleep(0.5)
    os._exit(3)
with open(sys.argv[1], "w") as file:
    file.write(str(os.getpid()))
time.sleep(60)
