"""`with tm.profile() as prof:` times every op's forward and backward, and numba's compilations apart.

    with tm.profile() as prof:
        loss = model(x).log_softmax(1).mean(); loss.backward(); optimizer.step()
    print(prof.key_averages().table())      # as torch.profiler: one row per op, sorted by time
    prof.export_chrome_trace("trace.json")  # open in chrome://tracing or https://ui.perfetto.dev

Each op's forward is its Function.apply (the op's arithmetic and the graph bookkeeping), each backward the
node's backward; the backward engine's own work (ordering the graph, summing gradients), each module's
Python around its ops (argument checks, reshaping) and the optimizers' step and zero_grad are rows too.
Times are self times: an op called inside a module, or inside another op (a backward under create_graph
builds ops), counts as itself, once. A numba kernel compiled during an op is
timed as "compile <kernel>" and taken out of that op's time, so the table shows running apart from
compiling. `TINYGRAD_MAAS_DEBUG=1` profiles the whole program and prints the table at exit (2 also prints
every op as it runs, as tinygrad's DEBUG does).
"""

import atexit
import json
import os
import sys
import time

from .autograd import observe


class profile:
    """Record ops while the block runs. `key_averages()` summarizes; `events` holds every record."""

    def __init__(self, print_each=False):
        self.print_each = print_each
        self.events = []  # (name, kind, start seconds, self seconds): kind forward, backward, optimizer, compile
        self.compilations = []  # the compile events again, to take them out of the ops they happened in
        self._compiling = None

    def __enter__(self):
        self.started = time.perf_counter()
        self._undo_patches = _time_methods(self)
        self._compiling = _watch_numba_compilation(self)
        observe.listeners.append(self)
        return self

    def __exit__(self, *exc_info):
        observe.listeners.remove(self)
        if self._compiling is not None:
            self._compiling()
        self._undo_patches()
        self.elapsed = time.perf_counter() - self.started

    def on_forward(self, op, seconds, output):
        self._record(op.__name__, "forward", seconds, getattr(output, "shape", None))

    def on_backward(self, node, grad, grads, seconds):
        self._record(node.name(), "backward", seconds, getattr(grad, "shape", None))

    def on_engine(self, seconds):
        self._record("autograd engine", "backward", seconds)

    def _record(self, name, kind, seconds, shape=None):
        seconds -= self._compile_seconds_within(seconds)
        self.events.append((name, kind, time.perf_counter() - seconds - self.started, seconds))
        if self.print_each:
            print(f"{kind:>8} {name:<24} {'' if shape is None else str(tuple(shape)):<20} {seconds * 1e6:10.1f} us")

    def _compile_seconds_within(self, seconds):
        """Compilation that happened during the last `seconds` (a compile inside an op is not the op's)."""
        since = time.perf_counter() - self.started - seconds
        return sum(e[3] for e in self.compilations if e[2] >= since)

    def key_averages(self):
        """One row per (op, kind): calls, total and mean self time; sorted by total time."""
        return ProfileTable(self.events, getattr(self, "elapsed", time.perf_counter() - self.started))

    def export_chrome_trace(self, path):
        """Write the records in the Trace Event Format (chrome://tracing, Perfetto)."""
        events = [
            {
                "name": name,
                "cat": kind,
                "ph": "X",
                "ts": start * 1e6,
                "dur": seconds * 1e6,
                "pid": os.getpid(),
                "tid": 0,
            }
            for name, kind, start, seconds in self.events
        ]
        with open(path, "w") as file:
            json.dump({"traceEvents": events, "displayTimeUnit": "ms"}, file)


class ProfileTable:
    """key_averages(): rows of (name, kind, calls, total seconds), and a printable table."""

    def __init__(self, events, elapsed):
        totals = {}
        for name, kind, _, seconds in events:
            calls, total = totals.get((name, kind), (0, 0.0))
            totals[(name, kind)] = (calls + 1, total + seconds)
        self.rows = sorted(((n, k, c, t) for (n, k), (c, t) in totals.items()), key=lambda row: -row[3])
        self.elapsed = elapsed

    def total_seconds(self):
        return sum(row[3] for row in self.rows)

    def table(self, row_limit=30):
        lines = [f"{'op':<28}{'kind':<10}{'calls':>7}{'total ms':>11}{'mean us':>11}{'% of block':>12}"]
        for name, kind, calls, total in self.rows[:row_limit]:
            share = 100 * total / self.elapsed if self.elapsed else 0.0
            lines.append(
                f"{name:<28}{kind:<10}{calls:>7}{total * 1e3:>11.3f}{total / calls * 1e6:>11.1f}{share:>11.1f}%"
            )
        recorded = self.total_seconds()
        lines.append(
            f"{len(self.rows)} rows; {recorded * 1e3:.3f} ms in ops of {self.elapsed * 1e3:.3f} ms in the block "
            f"({100 * recorded / self.elapsed if self.elapsed else 0:.1f}%; the rest is Python between ops)"
        )
        return "\n".join(lines)

    def __str__(self):
        return self.table()


def _time_methods(profiler):
    """Time what runs outside the ops: optimizers' step and zero_grad, and modules' __call__ (self time, their
    ops excluded). Undone by the function returned."""
    from .nn.module import Module
    from .optim.optimizer import Optimizer

    targets = [
        (cls, method, "optimizer") for cls in (Optimizer, *_subclasses(Optimizer)) for method in ("step", "zero_grad")
    ]
    targets += [(cls, "__call__", "module") for cls in (Module, *_subclasses(Module))]
    saved = {(cls, method): (cls.__dict__[method], kind) for cls, method, kind in targets if method in cls.__dict__}

    def timed(function, method, kind):
        label = "" if method == "__call__" else f".{method}"

        def run(self, *args, **kwargs):
            seconds, result = observe.timed(function, (self, *args), kwargs)
            profiler._record(f"{type(self).__name__}{label}", kind, seconds)
            return result

        return run

    for (cls, method), (function, kind) in saved.items():
        setattr(cls, method, timed(function, method, kind))

    def undo():
        for (cls, method), (function, _) in saved.items():
            setattr(cls, method, function)

    return undo


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _watch_numba_compilation(profiler):
    """Record numba compilations (numba's event API) as "compile <kernel>"; returns the unregister function,
    or None without numba."""
    if "numba" not in sys.modules:
        try:
            import numba  # noqa: F401
        except ImportError:
            return None
    from numba.core import event

    class Compilations(event.Listener):
        """Outermost compilations only: compiling one kernel compiles the functions it calls, nested."""

        starts = []

        def on_start(self, ev):
            self.starts.append(time.perf_counter())

        def on_end(self, ev):
            start = self.starts.pop()
            if self.starts:
                return
            dispatcher = ev.data.get("dispatcher") if ev.data else None
            name = getattr(getattr(dispatcher, "py_func", None), "__name__", "kernel")
            record = (f"compile {name}", "compile", start - profiler.started, time.perf_counter() - start)
            profiler.events.append(record)
            profiler.compilations.append(record)

    listener = Compilations()
    event.register("numba:compile", listener)
    return lambda: event.unregister("numba:compile", listener)


def _profile_the_program(level):
    """TINYGRAD_MAAS_DEBUG: profile from import to exit and print the table at exit."""
    program = profile(print_each=level >= 2).__enter__()

    def report():
        program.__exit__(None, None, None)
        print(program.key_averages().table(), file=sys.stderr)

    atexit.register(report)


def debug_level():
    try:
        return int(os.environ.get("TINYGRAD_MAAS_DEBUG", "0") or 0)
    except ValueError:
        raise ValueError(
            f"TINYGRAD_MAAS_DEBUG must be a number (0 off, 1 table at exit, 2 every op), got "
            f"{os.environ['TINYGRAD_MAAS_DEBUG']!r}"
        ) from None
