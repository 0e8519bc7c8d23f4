"""A stand-in for mpiexec (`forgetful_launcher.py -n N command...`) that starts the ranks and waits for every
one of them, but never stops the others when one fails: MPICH's mpiexec on the rare run where it misses a
rank's exit. No MPI: each rank is only told its number (PMI_RANK), as mpiexec tells it."""

import os
import subprocess
import sys

count, command = int(sys.argv[2]), sys.argv[3:]
ranks = [subprocess.Popen(command, env=dict(os.environ, PMI_RANK=str(rank))) for rank in range(count)]
sys.exit(max(abs(rank.wait()) for rank in ranks))
