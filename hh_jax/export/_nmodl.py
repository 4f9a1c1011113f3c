"""NMODL (NEURON ``.mod``) text for a channel or a calcium pool.

One mechanism per channel class, named ``hhjax_<ClassName>``: its PARAMETER
block holds the class defaults, the cell script sets the model's values, so the
file depends only on the class and the mechanisms of many models can be
compiled together.

Units, NEURON's: v mV, t ms, ``gbar`` S/cm^2 (hh_jax's mS/cm^2 times 1e-3),
currents mA/cm^2, concentrations mM, ``celsius`` degC. Each channel carries its
own reversal potential as a RANGE parameter named as in hh_jax (``E_Na``,
``E_K`` ...), so ion currents are written (``USEION k WRITE ik``) but the ion's
``ek`` is never read: the exported cell uses exactly the model's reversals.

The removable 0/0 of the exponential-linear rate ``x / (1 - exp(-x))`` is
evaluated by ``hhx_xexpm1(y) = y / (exp(y) - 1)`` with a Taylor branch for
``|y| < 1e-4`` (truncation below 1e-28, cancellation below 3e-12 relative).
"""

import re

from .._parameter import parameter_infos
from ..channels import CalciumPool
from ..channels._pool import FARADAY
from ..channels._rates import (
    AbstractRate,
    ExpLinear,
    Exponential,
    Expression,
    Sigmoid,
    format_number,
)
from ._declared import DeclaredChannel, DeclaredGate

PREFIX = "hhjax_"
CONDUCTANCE = "gbar"  # S/cm^2
_RESERVED = frozenset(
    {"v", "t", "dt", "celsius", "area", "diam", "i", "gbar", "secondorder"}
)

_XEXPM1 = """\
FUNCTION hhx_xexpm1(y) {
    : y / (exp(y) - 1), continued by 1 at y = 0 (no 0/0)
    if (fabs(y) < 1e-4) {
        hhx_xexpm1 = 1 - y / 2 + y * y / 12 - y * y * y * y / 720
    } else {
        hhx_xexpm1 = y / (exp(y) - 1)
    }
}
"""
_SIGMOID = """\
FUNCTION sigmoid(y) {
    sigmoid = 1 / (1 + exp(-y))
}
"""


def mechanism_name(class_name: str) -> str:
    """The NEURON SUFFIX of an exported channel or pool class."""
    return PREFIX + class_name


def ion_current(ion: str | None) -> str:
    """The NEURON current variable of `ion` (``ina``), or ``i`` for none."""
    return "i" if ion is None else f"i{ion}"


def render_rate(form: AbstractRate, u: str, names: dict[str, str]) -> str:
    """`form` at the (shifted) potential expression `u`, as NMODL text; `names`
    maps hh_jax names read by an Expression to their NMODL names."""
    if isinstance(form, ExpLinear):
        return f"{format_number(form.rate)} * hhx_xexpm1(-({form._x_text(u)}))"
    if isinstance(form, Exponential | Sigmoid):
        return form.expression(u)
    if isinstance(form, Expression):
        text = form.expression(u)
        for old, new in names.items():
            if old != new:
                text = re.sub(rf"\b{re.escape(old)}\b", new, text)
        return text
    raise NotImplementedError(
        f"rate form {type(form).__name__} has no NMODL rendering."
    )


def _shifted_text(declared: DeclaredChannel, dg: DeclaredGate) -> str:
    u = "v"
    if declared.voltage_offset is not None:
        sign, name = declared.voltage_offset
        if sign == 1.0:
            u += f" - {name}"
        elif sign == -1.0:
            u += f" + {name}"
        else:
            u += f" - {format_number(sign)} * {name}"
    if dg.shifted:
        u += f" - shift_{dg.name}"
    return u


def _check_names(declared: DeclaredChannel) -> None:
    clash = (set(declared.parameters) | set(declared.reads)) & _RESERVED
    clash |= {g.name for g in declared.gates} & _RESERVED
    if clash:
        raise NotImplementedError(
            f"{declared.name}: the names {sorted(clash)} are reserved in NMODL."
        )
    for dg in declared.gates:
        if declared.conductance in dg.gate.names:
            raise NotImplementedError(
                f"{declared.name}: a rate form reads the conductance "
                f"{declared.conductance!r}, which the export renames to gbar."
            )


def channel_mod(
    declared: DeclaredChannel, read_ions: dict[str, str], source: str
) -> str:
    """The ``.mod`` text of a channel. `read_ions` maps each name in
    ``declared.reads`` to the ion whose inner concentration it is (``"Ca_i"`` ->
    ``"ca"``, read as ``cai``); `source` is a line naming where it came from."""
    _check_names(declared)
    suffix = mechanism_name(declared.name)
    current = ion_current(declared.ion)
    dynamic = [dg for dg in declared.gates if not dg.gate.instantaneous]
    instant = [dg for dg in declared.gates if dg.gate.instantaneous]
    defaults = {n: v for n, v in declared.defaults.items() if n != declared.conductance}
    units = declared.units
    g_default = declared.defaults[declared.conductance]

    neuron = [f"    SUFFIX {suffix}"]
    if declared.ion is None:
        neuron.append("    NONSPECIFIC_CURRENT i")
    else:
        neuron.append(f"    USEION {declared.ion} WRITE {current}")
    for ion in sorted(set(read_ions.values())):
        neuron.append(f"    USEION {ion} READ {ion}i")
    neuron.append(f"    RANGE {', '.join([CONDUCTANCE, *defaults])}")

    parameter = [f"    {CONDUCTANCE} = {format_number(g_default * 1e-3)} (S/cm2)"]
    for n, value in defaults.items():
        parameter.append(f"    {n} = {format_number(value)} {_unit(units[n])}".rstrip())

    assigned = ["    v (mV)", "    celsius (degC)", f"    {current} (mA/cm2)"]
    for dg in dynamic:
        assigned.append(f"    alpha_{dg.name} (/ms)")
        assigned.append(f"    beta_{dg.name} (/ms)")
    for dg in instant:
        assigned.append(f"    {dg.name} (1)")
    for ion in sorted(set(read_ions.values())):
        assigned.append(f"    {ion}i (mM)")

    call_args = "".join(f", {read_ions[r]}i" for r in declared.reads)
    names = {r: r for r in declared.reads}

    open_terms = [
        dg.name if dg.gate.power == 1 else f"{dg.name}^{dg.gate.power}"
        for dg in declared.gates
    ]
    open_fraction = " * ".join(open_terms) if open_terms else "1"
    g_text = CONDUCTANCE if not open_terms else f"{CONDUCTANCE} * {open_fraction}"

    blocks = [
        f": {source}\n: Generated by hh_jax.export; units mV, ms, S/cm2, mA/cm2, mM\n",
        "NEURON {\n" + "\n".join(neuron) + "\n}\n",
        "PARAMETER {\n" + "\n".join(parameter) + "\n}\n",
        "ASSIGNED {\n" + "\n".join(assigned) + "\n}\n",
    ]
    if dynamic:
        blocks.append(
            "STATE {\n" + "\n".join(f"    {dg.name}" for dg in dynamic) + "\n}\n"
        )
    breakpoint_lines = []
    if dynamic:
        breakpoint_lines.append("    SOLVE states METHOD cnexp")
    if instant:
        breakpoint_lines.append(f"    instantaneous(v{call_args})")
    breakpoint_lines.append(f"    {current} = {g_text} * (v - {declared.reversal})")
    blocks.append("BREAKPOINT {\n" + "\n".join(breakpoint_lines) + "\n}\n")

    initial = []
    if dynamic:
        initial.append(f"    rates(v{call_args})")
        initial += [
            f"    {dg.name} = alpha_{dg.name} / (alpha_{dg.name} + beta_{dg.name})"
            for dg in dynamic
        ]
    if instant:
        initial.append(f"    instantaneous(v{call_args})")
    if initial:
        blocks.append("INITIAL {\n" + "\n".join(initial) + "\n}\n")

    if dynamic:
        deriv = [f"    rates(v{call_args})"] + [
            f"    {dg.name}' = alpha_{dg.name} - "
            f"(alpha_{dg.name} + beta_{dg.name}) * {dg.name}"
            for dg in dynamic
        ]
        blocks.append("DERIVATIVE states {\n" + "\n".join(deriv) + "\n}\n")
        blocks.append(_rates_procedure(declared, dynamic, names))
    if instant:
        lines = [f"PROCEDURE instantaneous(v (mV){_arg_units(declared.reads)}) {{"]
        lines.append("    LOCAL hhx_u")
        for dg in instant:
            lines.append(f"    hhx_u = {_shifted_text(declared, dg)}")
            lines.append(f"    {dg.name} = {_steady_text(dg, names)}")
        blocks.append("\n".join(lines) + "\n}\n")

    texts = [render_rate(f, "u", names) for dg in declared.gates for f in dg.gate.forms]
    if any("hhx_xexpm1" in t for t in texts):
        blocks.append(_XEXPM1)
    if any("sigmoid(" in t for t in texts):
        blocks.append(_SIGMOID)
    return "\n".join(blocks)


def _steady_text(dg: DeclaredGate, names) -> str:
    g = dg.gate
    if g.inf is not None:
        return render_rate(g.inf, "hhx_u", names)
    a, b = render_rate(g.alpha, "hhx_u", names), render_rate(g.beta, "hhx_u", names)
    return f"({a}) / (({a}) + ({b}))"


def _arg_units(reads) -> str:
    return "".join(f", {r} (mM)" for r in reads)


def _rates_procedure(declared, dynamic, names) -> str:
    lines = [f"PROCEDURE rates(v (mV){_arg_units(declared.reads)}) {{"]
    lines.append("    LOCAL hhx_phi, hhx_u, hhx_inf, hhx_tau")
    if declared.q10 is None:
        lines.append("    hhx_phi = 1")
    else:
        q10 = format_number(declared.q10)
        ref = format_number(declared.reference_temperature)
        lines.append(f"    hhx_phi = {q10}^((celsius - {ref}) / 10)")
    for dg in dynamic:
        g = dg.gate
        scale = f" / tau_scale_{dg.name}" if dg.scaled else ""
        lines.append(f"    hhx_u = {_shifted_text(declared, dg)}")
        if g.alpha is not None:
            alpha = render_rate(g.alpha, "hhx_u", names)
            beta = render_rate(g.beta, "hhx_u", names)
            lines.append(f"    alpha_{dg.name} = ({alpha}) * hhx_phi{scale}")
            lines.append(f"    beta_{dg.name} = ({beta}) * hhx_phi{scale}")
        else:
            tau_scale = f" * tau_scale_{dg.name}" if dg.scaled else ""
            lines.append(f"    hhx_inf = {render_rate(g.inf, 'hhx_u', names)}")
            lines.append(
                f"    hhx_tau = ({render_rate(g.tau, 'hhx_u', names)})"
                f"{tau_scale} / hhx_phi"
            )
            lines.append(f"    alpha_{dg.name} = hhx_inf / hhx_tau")
            lines.append(f"    beta_{dg.name} = (1 - hhx_inf) / hhx_tau")
    return "\n".join(lines) + "\n}\n"


_NMODL_UNITS = {
    "mV": "(mV)",
    "ms": "(ms)",
    "mM": "(mM)",
    "um": "(um)",
    "1": "(1)",
    "degC": "(degC)",
}


def _unit(unit: str) -> str:
    return _NMODL_UNITS.get(unit, "")


def pool_mod(pool: CalciumPool, source: str) -> str:
    """The ``.mod`` text of a :class:`~hh_jax.channels.CalciumPool`: ``cai`` (mM)
    as a STATE fed by the total ``ica`` (mA/cm^2) of the cell,
    ``cai' = max(-1e4 ica / (2 F depth_Ca), 0) - (cai - Ca_rest) / tau_Ca``."""
    if type(pool) is not CalciumPool:
        raise NotImplementedError(
            f"{type(pool).__name__}: only hh_jax.channels.CalciumPool can be "
            "exported to NMODL."
        )
    infos = parameter_infos(CalciumPool)
    params = "\n".join(
        f"    {n} = {format_number(i.default)} {_unit(i.unit)}"
        for n, i in infos.items()
    )
    return f"""\
: {source}
: Generated by hh_jax.export; units: mV, ms, mA/cm2, mM, um.
: Submembrane Ca shell (Destexhe et al. 1994) as in hh_jax.channels.CalciumPool.

NEURON {{
    SUFFIX {mechanism_name("CalciumPool")}
    USEION ca READ ica, cai WRITE cai
    RANGE {", ".join(infos)}
}}

PARAMETER {{
{params}
}}

ASSIGNED {{
    ica (mA/cm2)
    hhx_drive (mM/ms)
}}

STATE {{
    cai (mM)
}}

INITIAL {{
    cai = Ca_rest
}}

BREAKPOINT {{
    SOLVE state METHOD derivimplicit
}}

DERIVATIVE state {{
    : 1e4: mA/cm2 / (C/mol * um) -> mM/ms; valence 2
    hhx_drive = -10000 * ica / (2 * {format_number(FARADAY)} * depth_Ca)
    if (hhx_drive < 0) {{
        hhx_drive = 0
    }}
    cai' = hhx_drive - (cai - Ca_rest) / tau_Ca
}}
"""
