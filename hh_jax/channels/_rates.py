"""Rate forms: the voltage dependence of a gate as small declarative objects.

Each form is a function of a (shifted) membrane potential ``v`` in mV that
evaluates in JAX and renders itself as an infix expression string, so that one
declaration serves the simulator and the exporters (NMODL, NeuroML 2).

The three standard forms follow NeuroML 2's definitions (``Channels.xml``,
``HHExpRate``, ``HHSigmoidRate``, ``HHExpLinearRate``; used as steady states they
are NeuroML's ``HH...Variable`` types), with ``rate`` in the unit of the result
(1/ms for a rate, 1 for a steady state, ms for a time constant) and ``midpoint``,
``scale`` in mV:

- :class:`Exponential`: ``rate * exp((v - midpoint) / scale)``
- :class:`Sigmoid`: ``rate / (1 + exp(-(v - midpoint) / scale))``
- :class:`ExpLinear`: ``rate * x / (1 - exp(-x))``, ``x = (v - midpoint) / scale``,
  evaluated with :func:`hh_jax.x_over_expm1`, exact (value and derivatives) at
  the removable 0/0 point ``v = midpoint``.

:class:`Expression` covers the few non-standard forms (e.g. the M-current time
constant): a Python arithmetic expression in ``v`` and named quantities (channel
parameters, other state variables), parsed once and evaluated by a whitelist of
operations; it renders with ``^`` for powers, as NMODL and LEMS write them.
"""

import abc
import ast
import dataclasses
import functools
import math
import re
from collections.abc import Mapping
from typing import ClassVar

import jax.numpy as jnp

from .._numerics import sigmoid, x_over_expm1


def format_number(x: float | int) -> str:
    """Shortest round-trip decimal for `x`, without a trailing ``.0``."""
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


def _paren(v: str) -> str:
    """`v` in parentheses unless it is a plain name or number."""
    return v if re.fullmatch(r"[A-Za-z_][A-Za-z_0-9]*|[0-9.]+", v) else f"({v})"


def _minus(v: str, midpoint: float) -> str:
    """``(v - midpoint)`` written without a double sign; `v` is parenthesised."""
    v = _paren(v)
    if midpoint == 0:
        return v
    if midpoint < 0:
        return f"({v} + {format_number(-midpoint)})"
    return f"({v} - {format_number(midpoint)})"


class AbstractRate(abc.ABC):
    """A function of the membrane potential ``v`` (mV)."""

    @abc.abstractmethod
    def __call__(self, v, values: Mapping | None = None):
        """Evaluate at `v` (mV, an array); `values` supplies named quantities for
        :class:`Expression` (ignored by the standard forms)."""

    @abc.abstractmethod
    def expression(self, v: str = "v") -> str:
        """The form as an infix expression string in the variable `v` (any
        expression, e.g. ``"v - vtraub - shift_m"``; it is parenthesised)."""

    @property
    def names(self) -> frozenset[str]:
        """Named quantities besides ``v`` the form reads (none for standard forms)."""
        return frozenset()

    @property
    def reads_voltage(self) -> bool:
        """Whether the form depends on ``v``."""
        return True


@dataclasses.dataclass(frozen=True)
class _StandardForm(AbstractRate):
    """A NeuroML 2 standard HH form with parameters rate, midpoint (mV), scale (mV)."""

    rate: float
    midpoint: float
    scale: float

    neuroml_name: ClassVar[str]  # "Exp", "Sigmoid", "ExpLinear"

    def __post_init__(self):
        for name in ("rate", "midpoint", "scale"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value)):
                raise ValueError(f"`{name}` of a rate form must be a finite number.")
        if self.scale == 0:
            raise ValueError("`scale` (mV) of a rate form must be nonzero.")

    def neuroml_type(self, variable: bool = False) -> str:
        """NeuroML 2 component type: ``HH<name>Rate`` for a rate (1/ms),
        ``HH<name>Variable`` for a steady state (dimensionless)."""
        return f"HH{self.neuroml_name}{'Variable' if variable else 'Rate'}"

    def _x(self, v):
        return (v - self.midpoint) / self.scale

    def _x_text(self, v: str) -> str:
        scale = format_number(self.scale)
        scale = f"({scale})" if self.scale < 0 else scale
        return f"{_minus(v, self.midpoint)} / {scale}"


@dataclasses.dataclass(frozen=True)
class Exponential(_StandardForm):
    """``rate * exp((v - midpoint) / scale)`` (NeuroML ``HHExpRate``)."""

    neuroml_name: ClassVar[str] = "Exp"

    def __call__(self, v, values=None):
        return self.rate * jnp.exp(self._x(v))

    def expression(self, v="v"):
        return f"{format_number(self.rate)} * exp({self._x_text(v)})"


@dataclasses.dataclass(frozen=True)
class Sigmoid(_StandardForm):
    """``rate / (1 + exp(-(v - midpoint) / scale))`` (NeuroML ``HHSigmoidRate``)."""

    neuroml_name: ClassVar[str] = "Sigmoid"

    def __call__(self, v, values=None):
        return self.rate * sigmoid(self._x(v))

    def expression(self, v="v"):
        return f"{format_number(self.rate)} / (1 + exp(-({self._x_text(v)})))"


@dataclasses.dataclass(frozen=True)
class ExpLinear(_StandardForm):
    """``rate * x / (1 - exp(-x))`` with ``x = (v - midpoint) / scale``
    (NeuroML ``HHExpLinearRate``); equal to ``rate`` at ``v = midpoint``.

    Evaluated as ``rate * x_over_expm1(-x)``: exact value and derivatives at the
    0/0 point. The rendered string is the plain quotient; an NMODL exporter
    should write it through a trap for ``x = 0`` (e.g. NEURON's ``vtrap``)."""

    neuroml_name: ClassVar[str] = "ExpLinear"

    def __call__(self, v, values=None):
        return self.rate * x_over_expm1(-self._x(v))

    def expression(self, v="v"):
        x = f"({self._x_text(v)})"
        return f"{format_number(self.rate)} * {x} / (1 - exp(-{x}))"


# -- generic expressions ----------------------------------------------------------

_FUNCTIONS = {
    "exp": jnp.exp,
    "log": jnp.log,
    "sqrt": jnp.sqrt,
    "tanh": jnp.tanh,
    "sigmoid": sigmoid,
}
_BINARY = {
    ast.Add: ("+", lambda a, b: a + b),
    ast.Sub: ("-", lambda a, b: a - b),
    ast.Mult: ("*", lambda a, b: a * b),
    ast.Div: ("/", lambda a, b: a / b),
    ast.Pow: ("^", lambda a, b: a**b),
}


def unsupported_node(tree: ast.expr, functions) -> ast.AST | None:
    """The first node of `tree` outside the arithmetic a rate may use (numbers,
    names, + - * / **, unary signs, one-argument calls of `functions`), or None.
    Shared by the rate expressions and the LEMS importer."""
    allowed = (
        ast.BinOp,
        ast.UnaryOp,
        ast.Call,
        ast.Name,
        ast.Constant,
        ast.Load,
        ast.operator,
        ast.unaryop,
    )
    for node in ast.walk(tree):
        ok = isinstance(node, allowed)
        if isinstance(node, ast.BinOp) and type(node.op) not in _BINARY:
            ok = False
        if isinstance(node, ast.UnaryOp) and not isinstance(
            node.op, ast.USub | ast.UAdd
        ):
            ok = False
        if isinstance(node, ast.Call) and not (
            isinstance(node.func, ast.Name)
            and node.func.id in functions
            and len(node.args) == 1
            and not node.keywords
        ):
            ok = False
        if isinstance(node, ast.Constant) and not isinstance(node.value, int | float):
            ok = False
        if not ok:
            return node
    return None


@functools.cache
def _parse(text: str) -> ast.expr:
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as err:
        raise ValueError(f"rate expression {text!r} is not valid: {err.msg}.") from None
    if unsupported_node(tree, _FUNCTIONS) is not None:
        raise ValueError(
            f"rate expression {text!r} may use only numbers, names, + - * / **, "
            f"unary minus and the functions {sorted(_FUNCTIONS)}."
        )
    return tree


def _free_names(tree: ast.expr) -> frozenset[str]:
    called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call)}
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    return frozenset(names - called)


def _evaluate(node: ast.expr, scope: Mapping):
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return scope[node.id]
    if isinstance(node, ast.UnaryOp):
        value = _evaluate(node.operand, scope)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp):
        right = node.right
        if (
            isinstance(node.op, ast.Pow)
            and isinstance(right, ast.Constant)
            and float(right.value).is_integer()
        ):  # an integer power: exact, and defined for negative bases
            return _evaluate(node.left, scope) ** int(right.value)
        _, op = _BINARY[type(node.op)]
        return op(_evaluate(node.left, scope), _evaluate(right, scope))
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    return _FUNCTIONS[node.func.id](_evaluate(node.args[0], scope))


_PRECEDENCE = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.Div: 2, ast.Pow: 4}


def _render(node: ast.expr, v: str) -> tuple[str, int]:
    """(text, precedence) of `node`, with the name ``v`` replaced by ``(v)``."""
    if isinstance(node, ast.Constant):
        return format_number(node.value), 5
    if isinstance(node, ast.Name):
        return (_paren(v) if node.id == "v" else node.id), 5
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return f"{node.func.id}({_render(node.args[0], v)[0]})", 5
    if isinstance(node, ast.UnaryOp):  # the operand in parentheses unless atomic:
        text, prec = _render(node.operand, v)  # NMODL and LEMS read -x^2 alike
        text = text if prec >= 5 else f"({text})"
        return ("-" if isinstance(node.op, ast.USub) else "+") + text, 3
    assert isinstance(node, ast.BinOp)
    symbol, _ = _BINARY[type(node.op)]
    prec = _PRECEDENCE[type(node.op)]
    left, lp = _render(node.left, v)
    right, rp = _render(node.right, v)
    right_assoc = isinstance(node.op, ast.Pow)
    if lp < prec or (right_assoc and lp == prec):
        left = f"({left})"
    if rp < prec or (not right_assoc and rp == prec and symbol in "-/"):
        right = f"({right})"
    return f"{left} {symbol} {right}", prec


@dataclasses.dataclass(frozen=True)
class Expression(AbstractRate):
    """A non-standard form: a Python arithmetic expression in ``v`` (mV) and named
    quantities, e.g. ``"tau_max / (3.3 * exp((v + 35) / 20) + exp(-(v + 35) / 20))"``.

    Allowed: numbers, names, ``+ - * / **``, unary minus and the functions exp,
    log, sqrt, tanh, sigmoid. Names other than ``v`` are looked up in the
    `values` passed at evaluation (the channel's parameters and the model's other
    state variables, by name). No protection against 0/0 is added: write
    removable singularities with a standard form instead."""

    text: str

    def __post_init__(self):
        _parse(self.text)

    @property
    def names(self) -> frozenset[str]:
        return _free_names(_parse(self.text)) - {"v"}

    @property
    def reads_voltage(self) -> bool:
        return "v" in _free_names(_parse(self.text))

    def __call__(self, v, values=None):
        scope = dict(values or {})
        missing = self.names - set(scope)
        if missing:
            raise KeyError(
                f"rate expression {self.text!r} needs {sorted(missing)}, which the "
                "channel does not provide."
            )
        scope["v"] = v
        result = _evaluate(_parse(self.text), scope)
        return result + jnp.zeros_like(v)  # a constant expression still has v's shape

    def expression(self, v="v"):
        return _render(_parse(self.text), v)[0]
