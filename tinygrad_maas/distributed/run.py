"""`python -m tinygrad_maas.distributed.run -n N script.py [args]` (or `-n N -m module [args]`): mpiexec, plus
the rank that failed, by number.

A rank that raises already names itself ("[rank 1] failed", process_group.py). A rank that dies without an
exception (killed by a signal, os._exit, a crash in native code) is noticed by mpiexec, which then kills the
others, but MPICH's mpiexec names it by PID, or not at all for a plain non-zero exit, and the others cannot
say anything (they get SIGKILL). So here mpiexec starts a small watcher per rank, which runs the program as
its child and waits for it:

    mpiexec -> watcher (rank r) -> python script.py        the child dies with its watcher (PR_SET_PDEATHSIG)

When the program ends with a failure, its watcher writes the rank, how it ended (exit code or signal) and when
into a folder the runner made, then ends the same way, so mpiexec sees what it would have seen. The ranks
that mpiexec stops afterwards lose their watcher first, so they leave no record: the record that is there,
the earliest if several, is the rank that failed. Linux only (the death signal); elsewhere the runner is
plain mpiexec. As torchrun is to PyTorch's jobs; plain `mpiexec` keeps working without it.
"""

import argparse
import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

_RANK_VARIABLES = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "SLURM_PROCID")
_PR_SET_PDEATHSIG = 1


def mpiexec():
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    found = beside if os.path.exists(beside) else shutil.which("mpiexec")
    if found is None:
        raise SystemExit(
            "no mpiexec: pip install 'tinygrad_maas[distributed]' (the mpich wheel), or put your MPI's on PATH"
        )
    return found


def _die_with_parent():
    """In the child, before exec: the kernel sends it SIGKILL when its watcher dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def watch(directory, command):
    """The watcher of one rank: run `command` with this Python as a child, record a failure, end as it did."""
    rank = next((os.environ[v] for v in _RANK_VARIABLES if os.environ.get(v, "").isdigit()), "?")
    watcher = os.getpid()

    def before_exec():
        _die_with_parent()
        if os.getppid() != watcher:  # the watcher died before the death signal was set
            os._exit(1)

    # close_fds=False: the child inherits what mpiexec gave the watcher (the PMI connection to it)
    child = subprocess.Popen([sys.executable, *command], preexec_fn=before_exec, close_fds=False)
    for forwarded in (signal.SIGINT, signal.SIGTERM):
        signal.signal(forwarded, lambda number, frame: child.send_signal(number))
    code = child.wait()
    if code != 0:
        record = {"rank": rank, "code": code, "time": time.monotonic_ns()}
        path = os.path.join(directory, f"rank-{rank}-{os.getpid()}.json")
        with open(path + ".tmp", "w") as file:
            json.dump(record, file)
        os.replace(path + ".tmp", path)
    if code < 0:  # killed by a signal: end by the same signal, so mpiexec reports it as it would have
        if -code not in (signal.SIGKILL, signal.SIGSTOP):  # these two cannot be given a handler
            signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    return code


def _how(code):
    if code < 0:
        name = signal.Signals(-code).name if -code in signal.valid_signals() else "?"
        return f"was killed by signal {-code} ({name})"
    return f"exited with code {code}"


def run(processes, command, log=None):
    """Run `command` (script or -m module, then arguments; run with this Python) on `processes` ranks;
    returns mpiexec's exit code."""
    log = log or (lambda line: print(line, file=sys.stderr, flush=True))
    if not sys.platform.startswith("linux"):
        return subprocess.call([mpiexec(), "-n", str(processes), sys.executable, *command])
    with tempfile.TemporaryDirectory(prefix="tinygrad-maas-ranks-") as directory:
        watcher = [sys.executable, "-m", "tinygrad_maas.distributed.run", "--watch", directory, "--", *command]
        job = subprocess.Popen([mpiexec(), "-n", str(processes), *watcher])
        try:
            code = job.wait()
        except KeyboardInterrupt:
            job.send_signal(signal.SIGINT)
            code = job.wait(timeout=30)
        records = []
        for name in os.listdir(directory):
            if name.endswith(".json"):
                with open(os.path.join(directory, name)) as file:
                    records.append(json.load(file))
        if code != 0 and records:
            first = min(records, key=lambda record: record["time"])
            log(
                f"tinygrad_maas.distributed.run: rank {first['rank']} {_how(first['code'])}, first of the job's "
                f"{processes} ranks; mpiexec then stopped the others"
            )
    return code


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--watch"]:  # started by run() through mpiexec, once per rank
        directory, command = argv[1], argv[3:]
        return watch(directory, command)
    parser = argparse.ArgumentParser(
        prog="python -m tinygrad_maas.distributed.run", description=__doc__.splitlines()[0]
    )
    parser.add_argument("-n", "--nproc", type=int, required=True, help="the number of ranks (processes)")
    parser.add_argument("-m", "--module", action="store_true", help="run the script as a module (python -m)")
    parser.add_argument("script", help="the Python program every rank runs (a module name with -m)")
    parser.add_argument("arguments", nargs=argparse.REMAINDER, help="its arguments")
    args = parser.parse_args(argv)
    if args.nproc < 1:
        parser.error("-n must be at least 1")
    return run(args.nproc, ["-m"] * args.module + [args.script, *args.arguments])


if __name__ == "__main__":
    sys.exit(main())
