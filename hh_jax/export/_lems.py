"""Rate forms as LEMS ComponentTypes (NeuroML 2's extension mechanism), and back.

A gate form that NeuroML's standard ``HH...Rate`` / ``HH...Variable`` types
cannot express (an :class:`~hh_jax.channels.Expression`, or a time constant) is
written as a ``ComponentType`` declared in the document, extending one of
NeuroML's bases:

- rate (alpha, beta; 1/ms): ``baseVoltageDepRate``, exposure ``r``
  (``baseVoltageConcDepRate`` when it reads Ca);
- steady state (1): ``baseVoltageDepVariable``, exposure ``x``
  (``baseVoltageConcDepVariable``);
- time constant (ms): ``baseVoltageDepTime``, exposure ``t``
  (``baseVoltageConcDepTime``).

LEMS expressions are dimensional (``v`` is a voltage, ``caConc`` a
concentration), so the expression is written in hh_jax's numbers through the
scale constants NeuroML's own custom rates use: ``V_mV = v / VOLT_SCALE``
(``VOLT_SCALE = 1mV``), ``Ca_i = caConc / CONC_SCALE`` (``1mM``), and the result
times ``TIME_SCALE`` (``1ms``) or divided by it. The channel's values are baked
in as dimensionless ``Constant`` s named as the hh_jax parameters (``tau_max``,
``V_T``, ``shift_p``, ``tau_scale_p``), so the file reads like the class:
``u = V_mV - V_T - shift_p`` is the shifted potential the form is evaluated at.

Import reads such a ComponentType back: its Constants (in hh_jax units by
dimension), the Parameters ``rate``/``midpoint``/``scale``/``tau`` that the
referencing element sets, and its DerivedVariables, inlined into one
:class:`~hh_jax.channels.Expression` in ``v`` (mV) and ``Ca_i`` (mM). Because
mV, ms, 1/ms and mM are a coherent set of units, evaluating a dimensionally
consistent LEMS expression with every quantity in those units gives its value
in them (the scale constants become exactly 1).
"""

import ast
import dataclasses

import numpy as np

from ..channels._rates import (
    AbstractRate,
    ExpLinear,
    Exponential,
    Expression,
    Sigmoid,
    _parse,
    unsupported_node,
)
from ._neuroml_units import quantity

# role -> (exposure, dimension of the exposure, base ComponentTypes (V, V and Ca))
ROLES = {
    "rate": ("r", "per_time", "baseVoltageDepRate", "baseVoltageConcDepRate"),
    "variable": ("x", "none", "baseVoltageDepVariable", "baseVoltageConcDepVariable"),
    "time": ("t", "time", "baseVoltageDepTime", "baseVoltageConcDepTime"),
}
_BASES = {
    base: (role, ca)
    for role, (_, _, v_base, c_base) in ROLES.items()
    for base, ca in ((v_base, False), (c_base, True))
}
# LEMS dimension -> hh_jax unit of a number of that dimension
DIMENSION_UNITS = {
    "voltage": "mV",
    "time": "ms",
    "per_time": "1/ms",
    "concentration": "mM",
    "none": "1",
}
CALCIUM = "Ca_i"  # the hh_jax state variable a caConc requirement maps to
_RESERVED = {"v", "caConc", "V_mV", "u", CALCIUM, "r", "x", "t"}
_SCALES = {"VOLT_SCALE", "TIME_SCALE", "CONC_SCALE"}


def lems_number(x: float | int) -> str:
    """`x` as a positional decimal that round-trips (no exponent: LEMS
    expression parsers differ on ``1e-05``)."""
    return np.format_float_positional(float(x), unique=True, trim="-")


# -- hh_jax form -> Python AST ------------------------------------------------------


def form_tree(form: AbstractRate) -> ast.expr:
    """The form as a Python expression tree in ``v`` (mV) and named quantities."""
    if isinstance(form, Expression):
        return _parse(form.text)
    if isinstance(form, ExpLinear):
        raise NotImplementedError(
            "an exp-linear form can be written only as NeuroML's HHExpLinearRate "
            "(its 0/0 point needs the standard type's trap)."
        )
    if isinstance(form, Exponential | Sigmoid):
        x = f"(v - ({form.midpoint!r})) / ({form.scale!r})"
        if isinstance(form, Exponential):
            return _parse(f"({form.rate!r}) * exp({x})")
        return _parse(f"({form.rate!r}) / (1 + exp(-({x})))")
    raise NotImplementedError(f"rate form {type(form).__name__} cannot be written.")


# -- Python AST -> LEMS text --------------------------------------------------------

_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "^"}


def lems_text(node: ast.expr, rename: dict[str, str]) -> str:
    """LEMS infix text of `node`, fully parenthesised, unary minus written as
    ``0 - x`` (as NeuroML's core types do), names mapped by `rename`."""
    if isinstance(node, ast.Constant):
        return lems_number(node.value)
    if isinstance(node, ast.Name):
        return rename.get(node.id, node.id)
    if isinstance(node, ast.UnaryOp):
        inner = lems_text(node.operand, rename)
        return f"(0 - {inner})" if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp):
        left, right = lems_text(node.left, rename), lems_text(node.right, rename)
        return f"({left} {_OPS[type(node.op)]} {right})"
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    arg = lems_text(node.args[0], rename)
    if node.func.id == "sigmoid":
        return f"(1 / (1 + exp(0 - {arg})))"
    return f"{node.func.id}({arg})"


@dataclasses.dataclass(frozen=True)
class FormType:
    """What an exporter needs to write one form as a ComponentType: its
    `name`, `role` (``"rate"``, ``"variable"``, ``"time"``), the form, the
    channel values it may read (`values`, by name), the voltage terms
    subtracted from V (`shift`: ``(sign, name)`` pairs, ``u = V - sum(sign *
    value)``), and `tau_scale` (the parameter dividing a rate or multiplying a
    time constant, or None)."""

    name: str
    role: str
    form: AbstractRate
    values: dict[str, float]
    shift: tuple[tuple[float, str], ...]
    tau_scale: str | None


def component_type(neuroml, spec: FormType, reads: tuple[str, ...]):
    """The libNeuroML ``ComponentType`` for `spec`. `reads` are the state
    variables the channel may read (only ``Ca_i`` maps to NeuroML)."""
    tree = form_tree(spec.form)
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    used -= {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call)}
    states = {n for n in used if n in reads}
    bad = states - {CALCIUM}
    if bad:
        raise NotImplementedError(
            f"{spec.name}: reads {sorted(bad)}; NeuroML rates can read the "
            f"membrane potential and the Ca concentration ({CALCIUM}) only."
        )
    params = sorted(used - states - {"v"})
    missing = [p for p in params if p not in spec.values]
    if missing:
        raise NotImplementedError(f"{spec.name}: unknown names {missing}.")
    clash = sorted((set(params) | {n for _, n in spec.shift}) & (_RESERVED | _SCALES))
    if clash:
        raise NotImplementedError(f"{spec.name}: parameter names {clash} clash.")
    exposure, dimension, v_base, c_base = ROLES[spec.role]
    ct = neuroml.ComponentType(
        name=spec.name,
        extends=c_base if states else v_base,
        description="exported by hh_jax; numbers in mV, ms, mM",
    )
    const = neuroml.Constant
    if "v" in used:
        ct.Constant.append(const(name="VOLT_SCALE", dimension="voltage", value="1mV"))
    if spec.role != "variable":
        ct.Constant.append(const(name="TIME_SCALE", dimension="time", value="1ms"))
    if states:
        ct.Constant.append(
            const(name="CONC_SCALE", dimension="concentration", value="1mM")
        )
    baked = dict.fromkeys(params)
    if "v" in used:
        baked.update({n: None for _, n in spec.shift})
    if spec.tau_scale is not None:
        baked[spec.tau_scale] = None
    for name in baked:
        ct.Constant.append(
            const(name=name, dimension="none", value=lems_number(spec.values[name]))
        )
    dynamics = neuroml.Dynamics()
    dv = neuroml.DerivedVariable
    if "v" in used:
        dynamics.DerivedVariable.append(
            dv(name="V_mV", dimension="none", value="v / VOLT_SCALE")
        )
        u = "V_mV"
        for sign, name in spec.shift:
            u += f" - {name}" if sign > 0 else f" + {name}"
        dynamics.DerivedVariable.append(dv(name="u", dimension="none", value=u))
    if states:
        dynamics.DerivedVariable.append(
            dv(name=CALCIUM, dimension="none", value="caConc / CONC_SCALE")
        )
    body = lems_text(tree, {"v": "u"})
    if spec.role == "rate":
        if spec.tau_scale is not None:
            body = f"{body} / {spec.tau_scale}"
        value = f"{body} / TIME_SCALE"
    elif spec.role == "time":
        if spec.tau_scale is not None:
            body = f"{body} * {spec.tau_scale}"
        value = f"{body} * TIME_SCALE"
    else:
        value = body
    dynamics.DerivedVariable.append(
        dv(name=exposure, dimension=dimension, exposure=exposure, value=value)
    )
    ct.Dynamics.append(dynamics)
    return ct


# -- LEMS ComponentType -> Expression -----------------------------------------------

_ELEMENT_PARAMETERS = ("rate", "midpoint", "scale", "tau")
_REQUIREMENTS = {"v": "v", "caConc": CALCIUM}
_FUNCTIONS = {"exp", "log", "sqrt", "tanh"}


def _lems_tree(text: str, what: str) -> ast.expr:
    """A LEMS arithmetic expression as a Python tree (``^`` is a power)."""
    try:
        tree = ast.parse(str(text).replace("^", "**"), mode="eval").body
    except SyntaxError:
        raise NotImplementedError(
            f"{what}: cannot read the LEMS expression {text!r}."
        ) from None
    if unsupported_node(tree, _FUNCTIONS) is not None:
        raise NotImplementedError(
            f"{what}: the LEMS expression {text!r} uses an operation hh_jax "
            f"does not import (numbers, + - * / ^ and {sorted(_FUNCTIONS)})."
        )
    return tree


def _number(x: float) -> ast.expr:
    if x < 0 or (x == 0 and np.signbit(x)):
        return ast.UnaryOp(op=ast.USub(), operand=ast.Constant(-x))
    return ast.Constant(x)


class _Inline(ast.NodeTransformer):
    def __init__(self, resolve):
        self.resolve = resolve

    def visit_Name(self, node):
        return self.resolve(node.id)

    def visit_Call(self, node):  # keep the function name, inline the argument
        node.args = [self.visit(a) for a in node.args]
        return node


def _chain(name: str, types: dict, what: str) -> list:
    """The custom ComponentTypes from `name` up to a NeuroML base (that base's
    name last, as a string)."""
    out, seen = [], set()
    while name not in _BASES:
        if name not in types or name in seen:
            raise NotImplementedError(
                f"{what}: rate type {name!r} is neither a NeuroML standard form nor "
                "a ComponentType in the document extending one of "
                f"{sorted(_BASES)}."
            )
        seen.add(name)
        out.append(types[name])
        name = types[name].extends
    return [*out, name]


def expression_from_type(element, types: dict, role: str, what: str) -> Expression:
    """The :class:`~hh_jax.channels.Expression` (in ``v`` mV, ``Ca_i`` mM; result
    in 1/ms, 1 or ms by `role`) of a rate element whose ``type`` is a custom
    ComponentType in `types` (by name)."""
    *chain, base = _chain(element.type, types, what)
    base_role, _ = _BASES[base]
    if base_role != role:
        raise NotImplementedError(
            f"{what}: type {element.type!r} extends {base}, not a base for a {role}."
        )
    exposure = ROLES[role][0]
    known: dict[str, ast.expr] = {}
    formulas: dict[str, str] = {}
    for ct in reversed(chain):  # the derived type's definitions win
        for c in ct.Constant:
            unit = _unit(c.dimension, f"{what}: constant {c.name}")
            known[c.name] = _number(quantity(c.value, unit, f"{what}: {c.name}"))
        for p in ct.Parameter:
            if p.name not in _ELEMENT_PARAMETERS:
                raise NotImplementedError(
                    f"{what}: parameter {p.name!r} of {ct.name!r} is not one "
                    f"libNeuroML reads ({', '.join(_ELEMENT_PARAMETERS)})."
                )
            text = getattr(element, p.name, None)
            if text is None:
                raise ValueError(f"{what}: {element.type} needs {p.name!r}.")
            unit = _unit(p.dimension, f"{what}: parameter {p.name}")
            known[p.name] = _number(quantity(text, unit, f"{what}: {p.name}"))
        for r in ct.Requirement:
            if r.name not in _REQUIREMENTS:
                raise NotImplementedError(
                    f"{what}: {ct.name!r} requires {r.name!r}; hh_jax imports rates "
                    "of v and caConc only."
                )
        for dyn in ct.Dynamics:
            if dyn.ConditionalDerivedVariable or dyn.StateVariable:
                raise NotImplementedError(
                    f"{what}: {ct.name!r} has conditional or state variables, which "
                    "hh_jax does not import."
                )
            for d in dyn.DerivedVariable:
                if d.select is not None or d.value is None:
                    raise NotImplementedError(
                        f"{what}: derived variable {d.name!r} of {ct.name!r} is a "
                        "selection, not an expression."
                    )
                formulas[d.name] = d.value
    if exposure not in formulas:
        raise NotImplementedError(
            f"{what}: {element.type!r} defines no derived variable {exposure!r}."
        )
    done: dict[str, ast.expr] = {}

    def resolve(name: str, stack=()):
        if name in _REQUIREMENTS:
            return ast.Name(id=_REQUIREMENTS[name], ctx=ast.Load())
        if name in known:
            return known[name]
        if name in done:
            return done[name]
        if name not in formulas or name in stack:
            raise NotImplementedError(
                f"{what}: {element.type!r} uses {name!r}, which it does not define."
            )
        tree = _lems_tree(formulas[name], f"{what}: {name}")
        tree = _Inline(lambda n: resolve(n, (*stack, name))).visit(tree)
        done[name] = tree
        return tree

    tree = ast.fix_missing_locations(resolve(exposure))
    return Expression(ast.unparse(tree))


def _unit(dimension: str, what: str) -> str:
    if dimension not in DIMENSION_UNITS:
        raise NotImplementedError(
            f"{what}: dimension {dimension!r} is not one hh_jax imports "
            f"({', '.join(DIMENSION_UNITS)})."
        )
    return DIMENSION_UNITS[dimension]
