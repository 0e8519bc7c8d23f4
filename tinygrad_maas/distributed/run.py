"""`python -m tinygrad_maas.distributed.run -n N script.py [args]` (or `-n N -m module [args]`): mpiexec, plus
the rank that failed.

It runs `mpiexec -n N python script.py args` and returns its exit code. A rank that raises already names
itself ("[rank 1] failed", process_group.py). A rank that dies without an exception (killed by a signal,
os._exit, a crash in native code) is noticed by mpiexec, which stops the other ranks, but MPICH's mpiexec
names it by its PID, or not at all for a plain non-zero exit. Here each rank writes its PID when it joins
the group (init_process_group, through TINYGRAD_MAAS_RANK_DIR) and marks a normal exit; while the job runs
the runner watches those PIDs, and when the job fails it names the first rank that ended without finishing.
As torchrun is to PyTorch's jobs; plain `mpiexec` keeps working without it.
"""

import argparse
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from .process_group import RANK_DIRECTORY

POLL_SECONDS = 0.05


def mpiexec():
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    found = beside if os.path.exists(beside) else shutil.which("mpiexec")
    if found is None:
        raise SystemExit(
            "no mpiexec: pip install 'tinygrad_maas[distributed]' (the mpich wheel), or put your MPI's on PATH"
        )
    return found


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _ranks(directory):
    """{rank: (pid, finished normally)} of the ranks registered so far."""
    found = {}
    for name in os.listdir(directory):
        match = re.fullmatch(r"rank-(\d+)\.pid", name)
        if match:
            rank = int(match.group(1))
            try:
                with open(os.path.join(directory, name)) as file:
                    pid = int(file.read())
            except (OSError, ValueError):
                continue  # being written
            found[rank] = (pid, os.path.exists(os.path.join(directory, f"rank-{rank}.done")))
    return found


def _describe(code):
    if code < 0:
        return (
            f"killed by signal {-code} ({signal.Signals(-code).name})" if -code in signal.valid_signals() else f"{code}"
        )
    return f"exit code {code}" + (f" (signal {code - 128} for a shell)" if code > 128 else "")


class _Watcher:
    """Notices each registered rank's end as it happens: one pidfd per rank (Linux 5.3+), polled together,
    so the rank that died is seen before mpiexec's clean-up kills the rest; elsewhere, checked every poll.
    `ended` lists the ranks that ended without finishing normally, in the order they were seen."""

    def __init__(self, directory):
        self.directory, self.ended = directory, []
        self.watched = {}  # rank -> (pid, pidfd or None)
        self.seen = set()  # ranks ever watched
        self.poller = select.poll() if hasattr(os, "pidfd_open") else None

    def wait(self, seconds):
        for rank, (pid, _) in _ranks(self.directory).items():
            if rank not in self.seen:
                self._watch(rank, pid)
        if self.poller is None:
            time.sleep(seconds)
            for rank, (pid, _) in list(self.watched.items()):
                if not _alive(pid):
                    self._ended(rank)
            return
        handles = {handle: rank for rank, (_, handle) in self.watched.items()}
        for handle, _ in self.poller.poll(seconds * 1000):
            self._ended(handles[handle])

    def _watch(self, rank, pid):
        self.seen.add(rank)
        handle = None
        if self.poller is not None:
            try:
                handle = os.pidfd_open(pid)
            except OSError:  # gone already
                self.watched[rank] = (pid, None)
                self._ended(rank)
                return
            self.poller.register(handle, select.POLLIN)
        self.watched[rank] = (pid, handle)

    def _ended(self, rank):
        pid, handle = self.watched.pop(rank)
        if handle is not None:
            self.poller.unregister(handle)
            os.close(handle)
        if not os.path.exists(os.path.join(self.directory, f"rank-{rank}.done")):
            self.ended.append((rank, pid))

    def close(self):
        for rank in list(self.watched):
            _, handle = self.watched.pop(rank)
            if handle is not None:
                os.close(handle)


def run(processes, command, log=None):
    """Run `command` (a list: script and arguments, run with this Python) on `processes` ranks; the exit code."""
    log = log or (lambda line: print(line, file=sys.stderr, flush=True))
    with tempfile.TemporaryDirectory(prefix="tinygrad-maas-ranks-") as directory:
        environment = dict(os.environ, **{RANK_DIRECTORY: directory})
        job = subprocess.Popen([mpiexec(), "-n", str(processes), sys.executable, *command], env=environment)
        watcher = _Watcher(directory)
        try:
            while job.poll() is None:
                watcher.wait(POLL_SECONDS)
        except KeyboardInterrupt:
            job.send_signal(signal.SIGINT)
            job.wait(timeout=30)
        finally:
            watcher.close()
        code = job.returncode
        if code != 0:
            _report(code, processes, watcher.ended, _ranks(directory), log)
    return code


def _report(code, processes, ended, ranks, log):
    prefix = "tinygrad_maas.distributed.run:"
    if ended:
        rank, pid = ended[0]
        log(
            f"{prefix} rank {rank} (PID {pid}) ended first, without finishing; mpiexec then stopped the other "
            f"ranks of the job ({_describe(code)})"
        )
    elif len(ranks) < processes:
        log(
            f"{prefix} the job failed ({_describe(code)}) before every rank joined the process group "
            f"({len(ranks)} of {processes} did)"
        )


def main(argv=None):
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
