"""NeuroML 2 quantities ("-40mV", "0.07 per_ms", "120mS_per_cm2") to numbers
in hh_jax's units, and back."""

import re

from ..channels._rates import format_number

# unit -> (hh_jax unit, factor): value_in_hh_jax = value * factor
_UNITS = {
    "mV": ("mV", 1.0),
    "V": ("mV", 1e3),
    "uV": ("mV", 1e-3),
    "ms": ("ms", 1.0),
    "s": ("ms", 1e3),
    "us": ("ms", 1e-3),
    "per_ms": ("1/ms", 1.0),
    "per_s": ("1/ms", 1e-3),
    "Hz": ("1/ms", 1e-3),
    "kHz": ("1/ms", 1.0),
    "mS_per_cm2": ("mS/cm^2", 1.0),
    "S_per_cm2": ("mS/cm^2", 1e3),
    "S_per_m2": ("mS/cm^2", 0.1),
    "mS_per_m2": ("mS/cm^2", 1e-4),
    "uF_per_cm2": ("uF/cm^2", 1.0),
    "F_per_m2": ("uF/cm^2", 100.0),
    "degC": ("degC", 1.0),
    "mM": ("mM", 1.0),
    "mol_per_m3": ("mM", 1.0),
    "mol_per_cm3": ("mM", 1e6),
    "um": ("um", 1.0),
    "m": ("um", 1e6),
    "cm": ("um", 1e4),
    "ohm_cm": ("ohm*cm", 1.0),
    "kohm_cm": ("ohm*cm", 1e3),
    "ohm_m": ("ohm*cm", 100.0),
}
_QUANTITY = re.compile(
    r"^\s*(?P<number>[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?)\s*(?P<unit>[A-Za-z_0-9]*)\s*$"
)


def quantity(text: str | float, expected: str, what: str) -> float:
    """The value of NeuroML quantity `text` in hh_jax unit `expected`; a bare
    number is taken as dimensionless (`expected` ``"1"``; libNeuroML reads some
    dimensionless attributes as floats). `what` names it in errors."""
    match = _QUANTITY.match(str(text))
    if match is None:
        raise ValueError(f"{what}: cannot read the NeuroML quantity {text!r}.")
    number, unit = float(match["number"]), match["unit"]
    if unit == "":
        if expected != "1":
            raise ValueError(f"{what}: {text!r} has no unit; expected {expected}.")
        return number
    if unit not in _UNITS or _UNITS[unit][0] != expected:
        raise ValueError(
            f"{what}: unit {unit!r} of {text!r} is not a unit of {expected} that "
            "hh_jax reads."
        )
    return number * _UNITS[unit][1]


_WRITE = {
    "mV": "mV",
    "ms": "ms",
    "1/ms": "per_ms",
    "mS/cm^2": "mS_per_cm2",
    "uF/cm^2": "uF_per_cm2",
    "degC": "degC",
    "mM": "mM",
    "um": "um",
    "ohm*cm": "ohm_cm",
    "1": "",
}


def written(value: float, unit: str) -> str:
    """`value` (in hh_jax `unit`) as a NeuroML quantity string, exactly."""
    return f"{format_number(value)}{_WRITE[unit]}"
