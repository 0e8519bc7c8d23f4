"""The `tinygrad-maas` command (also `python -m tinygrad_maas`)."""

import argparse


def main(argv=None):
    parser = argparse.ArgumentParser(prog="tinygrad-maas", description="tinygrad_maas command line")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="train a small MLP with the autograd engine and print its loss")
    demo.add_argument("--steps", type=int, default=2000, help="gradient descent steps (default 2000)")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from .demo import main as demo_main

        if args.steps < 1:
            parser.error("--steps must be at least 1")
        demo_main(steps=args.steps)


if __name__ == "__main__":
    main()
