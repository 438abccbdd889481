"""The `rig` command: each subcommand lives in its own module under rig/commands/.

A module there defines `register(subparsers)`, adds its parser and sets
`func=callable(args) -> int`. Discovery keeps this file free of per-command edits.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys

import rig
import rig.commands
from rig.errors import RigError
from rig.power.base import raise_on_sigterm


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rig", description=rig.__doc__)
    parser.add_argument("--version", action="version", version=f"rig {rig.__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(rig.commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"rig.commands.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(levelname)s: %(message)s")

    raise_on_sigterm()  # SIGTERM (systemd, CI cancel) unwinds like Ctrl-C: safe power, logs written
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except RigError as exc:
        print(f"rig {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"rig {args.command}: interrupted", file=sys.stderr)
        return 130
    except SystemExit as exc:
        if isinstance(exc.code, int) and exc.code > 128:
            print(f"rig {args.command}: terminated", file=sys.stderr)
        raise


if __name__ == "__main__":
    sys.exit(main())
