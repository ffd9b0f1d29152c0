"""The ``dlclab`` command. Each sub-command is a module in this package with a
``register(subparsers)`` function; they are discovered, so adding a command is
adding a module."""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from dlclab import __version__
from dlclab.errors import DlclabError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dlclab",
        description="Astroparticle Data Life Cycle Lab: simulate, convert, inspect, export, "
        "catalogue and analyse KASCADE (KCDC) and TAIGA data.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"dlclab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except DlclabError as exc:
        print(f"dlclab {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"dlclab {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
