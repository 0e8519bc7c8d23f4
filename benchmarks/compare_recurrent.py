"""Side-by-side GRU / LSTM forward + backward: tinygrad_maas's sequence ops (numba and numpy backends)
vs PyTorch's nn.GRU / nn.LSTM when installed, alternating in one process.

    python -m benchmarks.compare_recurrent [--rounds 15]
"""

import tinygrad_maas as tm
from benchmarks import recurrent_workloads as work
from benchmarks.alternate import backend_arguments, backend_row
from tinygrad_maas.ops.recurrent import gru_sequence, lstm_sequence


def _ours(kind):
    x, h0, c0, *weights = [tm.tensor(a, requires_grad=True) for a in work.arrays(3 if kind == "gru" else 4)]

    def step(backend):
        tm.backend.use(backend)
        for t in (x, *weights):
            t.grad = None
        outputs = gru_sequence(x, h0, *weights) if kind == "gru" else lstm_sequence(x, h0, c0, *weights)[0]
        outputs.sum().backward()

    return step


def _theirs(torch, kind):
    module = (torch.nn.GRU if kind == "gru" else torch.nn.LSTM)(work.INPUT, work.HIDDEN)
    x = torch.tensor(work.arrays(3)[0], requires_grad=True)

    def step():
        x.grad = None
        module.zero_grad()
        module(x)[0].sum().backward()

    return step


def main(argv=None):
    args, chosen, torch = backend_arguments(__doc__, argv)
    print(
        f"{work.STEPS} steps, batch {work.BATCH}, {work.INPUT} -> {work.HIDDEN}, forward + backward, float32, "
        f"medians of {args.rounds} alternating rounds (ms)"
    )
    print("| layer | tinygrad_maas numba | tinygrad_maas numpy | pytorch | numba / pytorch |")
    print("|---|---:|---:|---:|---:|")
    for kind in ("gru", "lstm"):
        ours = _ours(kind)
        contenders = {"numba": lambda: ours("numba"), "numpy": lambda: ours("numpy")}
        if torch is not None:
            contenders["torch"] = _theirs(torch, kind)
        backend_row(kind, contenders, chosen, args.rounds)
    tm.backend.use("numba")


if __name__ == "__main__":
    main()
