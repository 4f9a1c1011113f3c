"""Solver tolerances: the defaults of every entry point, in one place.

``rtol`` and ``atol`` are the relative and absolute tolerances of the adaptive
step control (each step's error estimate, per state variable, must stay below
``atol + rtol * |y|``; V in mV, gates dimensionless); ``max_steps`` bounds the
solver steps of one simulation (reaching it is reported as MAX_STEPS_REACHED in
``status``, never silently). The README's "Vocabulary" table lists the same
numbers and a test checks both against the signatures.

One set, :data:`DEFAULT`, is used unless a layer has a measured or stated reason
to differ; each other set says its reason.
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Tolerances:
    """Default `rtol`, `atol` (dimensionless; atol in the state's units: mV for V)
    and `max_steps` of an entry point, and why they are what they are."""

    rtol: float
    atol: float
    max_steps: int
    reason: str


DEFAULT = Tolerances(
    rtol=1e-5,
    atol=1e-6,
    max_steps=100_000,
    reason="Tsit5 at these tolerances puts every NEURON reference spike within "
    "1.7e-4 ms (docs/accuracy.md; tests/test_reference.py)",
)

BATCH_ADAPTIVE = Tolerances(
    rtol=1e-8,
    atol=1e-8,
    max_steps=DEFAULT.max_steps,
    reason="simulate_batch's per-neuron adaptive lanes (method='adaptive', and the "
    "neurons that method='auto' re-integrates): a neuron lands here because the "
    "shared fixed step was too long for it, near threshold, where spike times "
    "are most sensitive (docs/performance.md)",
)

FIT = Tolerances(
    rtol=1e-6,
    atol=1e-6,
    max_steps=20_000,  # fit() and validation: 20_000 + 40 per ms of the sweep
    reason="fits keep the tolerances their tests and docs/fitting.md were "
    "measured with; the step budget grows with the sweep (fit.max_steps_for)",
)

LOCAL_SENSITIVITY = Tolerances(
    rtol=1e-8,
    atol=1e-8,
    max_steps=DEFAULT.max_steps,
    reason="derivatives of an adaptive solution match finite differences only "
    "when the solution itself is accurate (docs/sensitivity.md)",
)

GLOBAL_SENSITIVITY = Tolerances(
    rtol=1e-6,
    atol=1e-6,
    max_steps=20_000,
    reason="Sobol indices and DGSM average n (P + 2) samples: less accuracy per "
    "sample is needed than for a local derivative, and a stiff sample fails fast",
)

THRESHOLD_SENSITIVITY = Tolerances(
    rtol=1e-10,
    atol=1e-10,
    max_steps=DEFAULT.max_steps,
    reason="rheobase and onset are roots of a response that is extremely steep in "
    "the current near threshold",
)

ONSET_SENSITIVITY = dataclasses.replace(
    THRESHOLD_SENSITIVITY,
    max_steps=200_000,
    reason=THRESHOLD_SENSITIVITY.reason + "; onset_sensitivity integrates long "
    "constant-current runs at these tolerances, hence twice the step budget",
)

# Entry point -> its defaults (the README table lists the same).
BY_ENTRY_POINT = {
    "simulate": DEFAULT,
    "simulate_batch (method='adaptive')": BATCH_ADAPTIVE,
    "fit": FIT,
    "local_sensitivity, trace_sensitivity, fisher_information, compare_protocols": (
        LOCAL_SENSITIVITY
    ),
    "global_sensitivity": GLOBAL_SENSITIVITY,
    "rheobase_sensitivity": THRESHOLD_SENSITIVITY,
    "onset_sensitivity": ONSET_SENSITIVITY,
}
