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

MPICH's mpiexec has been seen to miss a rank's exit (once, in a full run of the test suite: its proxy
reaped the dead rank and never stopped the other, which waited in a collective for its 30-minute timeout).
So the runner does not rely on it: each watcher also writes its PID into the folder, and once a failure is
recorded, the runner gives mpiexec CLEANUP_GRACE seconds to end the job, then kills the watchers that are
left (their programs die with them) and mpiexec ends as after any failure (or is killed CLEANUP_GRACE
seconds later).
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
CLEANUP_GRACE = 5.0  # seconds mpiexec has to stop the job after a rank failed (it takes well under one)


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
    _write_json(os.path.join(directory, f"watcher-{watcher}.pid"), watcher)  # for the runner's cleanup

    def before_exec():
        _die_with_parent()
        if os.getppid() != watcher:  # the watcher died before the death signal was set
            os._exit(1)

    # close_fds=False: the child inherits what mpiexec gave the watcher (the PMI connection to it)
    child = subprocess.Popen([sys.executable, *command], preexec_fn=before_exec, close_fds=False)
    for forwarded in (signal.SIGINT, signal.SIGTERM):
        signal.signal(forwarded, lambda number, frame: child.send_signal(number))
    code = child.wait()
    os.remove(os.path.join(directory, f"watcher-{watcher}.pid"))
    if code != 0:
        record = {"rank": rank, "code": code, "time": time.monotonic_ns()}
        _write_json(os.path.join(directory, f"rank-{rank}-{watcher}.json"), record)
    if code < 0:  # killed by a signal: end by the same signal, so mpiexec reports it as it would have
        if -code not in (signal.SIGKILL, signal.SIGSTOP):  # these two cannot be given a handler
            signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    return code


def _write_json(path, value):
    """Whole or not at all: the runner may read the folder at any moment."""
    with open(path + ".tmp", "w") as file:
        json.dump(value, file)
    os.replace(path + ".tmp", path)


def _read_folder(directory, suffix):
    found = []
    for name in os.listdir(directory):
        if name.endswith(suffix):
            with open(os.path.join(directory, name)) as file:
                found.append(json.load(file))
    return found


def _wait_for_job(job, directory, log):
    """mpiexec's exit code. If a rank failed and mpiexec has not ended the job CLEANUP_GRACE seconds later,
    the watchers still running are killed (their programs die with them); if mpiexec still runs another
    CLEANUP_GRACE seconds later, it is killed too."""
    failed_at = stopped_at = None
    while True:
        try:
            return job.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            pass
        now = time.monotonic()
        if failed_at is None:
            failed_at = now if _read_folder(directory, ".json") else None
        elif stopped_at is None and now - failed_at > CLEANUP_GRACE:
            log(
                "tinygrad_maas.distributed.run: a rank failed and mpiexec had not stopped the others after "
                f"{CLEANUP_GRACE:g} s; stopping them"
            )
            for pid in _read_folder(directory, ".pid"):
                _kill_watcher(pid, directory)
            stopped_at = now
        elif stopped_at is not None and now - stopped_at > CLEANUP_GRACE:
            job.kill()


def _kill_watcher(pid, directory):
    """SIGKILL to the watcher `pid` if it is still one of this job's watchers (not a reused PID)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            arguments = file.read().split(b"\0")
        if b"--watch" in arguments and os.fsencode(directory) in arguments:
            os.kill(pid, signal.SIGKILL)
    except (FileNotFoundError, ProcessLookupError):
        pass  # it has ended already


def _how(code):
    if code < 0:
        name = signal.Signals(-code).name if -code in signal.valid_signals() else "?"
        return f"was killed by signal {-code} ({name})"
    return f"exited with code {code}"


def run(processes, command, log=None, launcher=None):
    """Run `command` (script or -m module, then arguments; run with this Python) on `processes` ranks;
    returns mpiexec's exit code. `launcher`: the command that starts the ranks instead of [mpiexec] (tests)."""
    log = log or (lambda line: print(line, file=sys.stderr, flush=True))
    if not sys.platform.startswith("linux"):
        return subprocess.call([mpiexec(), "-n", str(processes), sys.executable, *command])
    with tempfile.TemporaryDirectory(prefix="tinygrad-maas-ranks-") as directory:
        watcher = [sys.executable, "-m", "tinygrad_maas.distributed.run", "--watch", directory, "--", *command]
        job = subprocess.Popen([*(launcher or [mpiexec()]), "-n", str(processes), *watcher])
        try:
            code = _wait_for_job(job, directory, log)
        except KeyboardInterrupt:
            job.send_signal(signal.SIGINT)
            code = job.wait(timeout=30)
        records = _read_folder(directory, ".json")
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
