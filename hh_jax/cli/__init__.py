"""The ``hh-jax`` command line: ``hh-jax simulate``, ``hh-jax fit``, ...

Units on the command line are those of the library: ms, mV, uA/cm^2, mS/cm^2,
uF/cm^2, degrees Celsius.
"""

import argparse
import sys

from . import _cable, _export, _fit, _sensitivity, _simulate, _sweep

# Each subcommand module provides `add_parser(subparsers)` and `run(args)`.
_COMMANDS = {
    "simulate": _simulate,
    "fit": _fit,
    "sensitivity": _sensitivity,
    "sweep": _sweep,
    "cable": _cable,
    "export": _export,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hh-jax",
        description="Differentiable Hodgkin–Huxley neurons in JAX: simulate, fit, "
        "analyse. Units: time ms, voltage mV, current uA/cm^2, conductance mS/cm^2, "
        "capacitance uF/cm^2, temperature degC.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in _COMMANDS.values():
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from ._common import configure_jax

    configure_jax(args)
    try:
        return int(_COMMANDS[args.command].run(args) or 0)
    except (ValueError, KeyError, FileNotFoundError) as err:
        print(f"hh-jax {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
