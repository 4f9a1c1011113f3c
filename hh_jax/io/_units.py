"""Unit strings of recordings and their factors to hh_jax units.

hh_jax works in ms, mV, and either a current density in uA/cm^2 or a whole-cell
current in pA. Files state their units in many spellings ("s", "sec", "seconds",
"µA/cm²", "amperes"); this module maps each accepted spelling to a factor and
rejects everything else with a ``ValueError`` that lists what is accepted.
"""

DENSITY = "uA/cm^2"
"""Current density: uA/cm^2 (the unit of hh_jax stimuli)."""
PICOAMPERE = "pA"
"""Whole-cell current: pA (what loaders produce)."""
NANOAMPERE = "nA"
"""Whole-cell current: nA (accepted in a :class:`Sweep`)."""
CURRENT_UNITS = (DENSITY, PICOAMPERE, NANOAMPERE)

# Symbols are case-sensitive (mV is not MV); words are matched in lower case.
_TIME_TO_MS = {"ms": 1.0, "s": 1e3, "sec": 1e3, "us": 1e-3}
_TIME_WORDS = {
    "second": 1e3,
    "seconds": 1e3,
    "millisecond": 1.0,
    "milliseconds": 1.0,
    "msec": 1.0,
}
_VOLTAGE_TO_MV = {"mV": 1.0, "V": 1e3, "uV": 1e-3}
_VOLTAGE_WORDS = {
    "volt": 1e3,
    "volts": 1e3,
    "millivolt": 1.0,
    "millivolts": 1.0,
}
_CURRENT_TO_PA = {"fA": 1e-3, "pA": 1.0, "nA": 1e3, "uA": 1e6, "mA": 1e9, "A": 1e12}
_CURRENT_WORDS = {
    "amp": 1e12,
    "amps": 1e12,
    "ampere": 1e12,
    "amperes": 1e12,
    "picoampere": 1.0,
    "picoamperes": 1.0,
    "nanoampere": 1e3,
    "nanoamperes": 1e3,
}
_DENSITY_TO_UA_CM2 = {"uA/cm^2": 1.0, "mA/cm^2": 1e3, "nA/cm^2": 1e-3}


def normalize(unit: str) -> str:
    """One spelling per unit: micro signs become ``u``, ``²`` becomes ``^2``,
    ``cm2`` becomes ``cm^2`` and spaces go."""
    u = str(unit).strip().replace(" ", "")
    for micro in ("\u00b5", "\u03bc"):  # MICRO SIGN and GREEK SMALL LETTER MU
        u = u.replace(micro, "u")
    u = u.replace("\u00b2", "^2").replace("**2", "^2")
    if u.endswith("cm2"):
        u = u[:-3] + "cm^2"
    return u


def _lookup(unit: str, symbols: dict, words: dict, what: str, target: str) -> float:
    u = normalize(unit)
    if u in symbols:
        return symbols[u]
    if u.lower() in words:
        return words[u.lower()]
    accepted = ", ".join(repr(s) for s in symbols)
    raise ValueError(
        f"unknown {what} unit {unit!r}; expected one of {accepted} (converted to "
        f"{target})."
    )


def time_to_ms(unit: str) -> float:
    """Factor from `unit` to ms; ``ValueError`` if `unit` is not a time unit."""
    return _lookup(unit, _TIME_TO_MS, _TIME_WORDS, "time", "ms")


def voltage_to_mV(unit: str) -> float:
    """Factor from `unit` to mV; ``ValueError`` if `unit` is not a voltage unit."""
    return _lookup(unit, _VOLTAGE_TO_MV, _VOLTAGE_WORDS, "voltage", "mV")


def current_to_pA(unit: str) -> float:
    """Factor from a whole-cell current `unit` to pA."""
    return _lookup(unit, _CURRENT_TO_PA, _CURRENT_WORDS, "current", "pA")


def current(unit: str) -> tuple[str, float]:
    """``(hh_jax unit, factor)`` for a current or current-density `unit`: densities
    go to uA/cm^2, whole-cell currents to pA."""
    u = normalize(unit)
    if u in _DENSITY_TO_UA_CM2:
        return DENSITY, _DENSITY_TO_UA_CM2[u]
    if u in _CURRENT_TO_PA or u.lower() in _CURRENT_WORDS:
        return PICOAMPERE, current_to_pA(u)
    accepted = ", ".join(repr(s) for s in (*_DENSITY_TO_UA_CM2, *_CURRENT_TO_PA))
    raise ValueError(
        f"unknown current unit {unit!r}; expected a density ({DENSITY}) or a "
        f"whole-cell current (pA), one of {accepted}."
    )


def dimension(unit: str) -> str | None:
    """``"time"``, ``"voltage"``, ``"current"`` or ``None`` (not a known unit)."""
    for name, parse in (
        ("time", time_to_ms),
        ("voltage", voltage_to_mV),
        ("current", current),
    ):
        try:
            parse(unit)
        except ValueError:
            continue
        return name
    return None


def sweep_current_unit(unit: str) -> str:
    """The canonical spelling of a :class:`Sweep` current unit (uA/cm^2, pA, nA)."""
    u = normalize(unit)
    if u in CURRENT_UNITS:
        return u
    raise ValueError(
        f"unknown `current_unit` {unit!r}; a Sweep holds currents in "
        f"{', '.join(repr(c) for c in CURRENT_UNITS)} (convert other units first)."
    )
