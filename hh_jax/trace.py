"""The result of a simulation: sampled membrane potential, gates, currents, status."""

import enum

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int


class Status(enum.IntEnum):
    """Outcome of one simulated neuron (the value stored in ``Trace.status``)."""

    OK = 0
    MAX_STEPS_REACHED = 1
    SOLVER_FAILED = 2
    NON_FINITE = 3
    INVALID_INPUT = 4

    @property
    def message(self) -> str:
        return _MESSAGES[self]


_MESSAGES = {
    Status.OK: "ok",
    Status.MAX_STEPS_REACHED: (
        "the solver reached `max_steps` before the end of the simulation; increase "
        "`max_steps` or check for absurd parameters (very stiff dynamics)"
    ),
    Status.SOLVER_FAILED: "the ODE solver failed (step size collapsed)",
    Status.NON_FINITE: "the solution became NaN or infinite",
    Status.INVALID_INPUT: (
        "invalid input: a parameter outside its physical range (negative "
        "conductance, non-positive capacitance, NaN) or an initial gate outside "
        "[0, 1] (or no resting state found for y0='rest')"
    ),
}


class Trace(eqx.Module):
    """Simulated membrane potential and gates at the requested times.

    **Fields** (each may carry leading batch axes):

    - `t`: sample times, ms, shape ``(T,)`` when shared by a batch, else ``(..., T)``.
    - `V`: membrane potential, mV, shape ``(..., T)``.
    - `gates`: gating variables by name (dimensionless); also readable as
      attributes (``trace.m``).
    - `currents`: channel currents by name (``"I_Na"``, ...; uA/cm^2, outward
      positive) and the applied current ``"I_ext"``; empty unless requested.
      Also readable as attributes (``trace.I_Na``).
    - `status`: an int per neuron, see :class:`Status`; ``trace.ok`` is the mask
      of successful members. Failed members hold NaN or inf after the failure.
    - `num_steps`: accepted solver steps per neuron.
    - `spikes`, `spike_count`: spike times (ms, NaN-padded) and counts recorded
      during integration, when the integrator was asked to (``simulate_fixed``
      or ``simulate_batch`` with `max_spikes`); else None.
    - `dVdt`: dV/dt (mV/ms) at the save times, where the integrator saves it
      (``simulate_fixed``; ``simulate_batch`` with ``currents=True``), for spike
      times by cubic Hermite interpolation (:func:`hh_jax.spike_times` with
      ``dVdt=trace.dVdt``); else None. Also readable as ``currents["dVdt"]``
      there, the name of earlier versions.
    - `method`: the integration method used, in words (``simulate_batch`` says
      which one ``method="auto"`` chose); None where not recorded.
    """

    t: Float[Array, "... T"]
    V: Float[Array, "*batch T"]
    gates: dict[str, Float[Array, "*batch T"]]
    currents: dict[str, Float[Array, "*batch T"]]
    status: Int[Array, "*batch"]
    num_steps: Int[Array, "*batch"]
    spikes: Float[Array, "*batch S"] | None = None
    spike_count: Int[Array, "*batch"] | None = None
    dVdt: Float[Array, "*batch T"] | None = None
    method: str | None = eqx.field(static=True, default=None)

    def __getattr__(self, name: str):
        if name.startswith("_") or name in type(self).__dataclass_fields__:
            raise AttributeError(name)
        if name in self.gates:
            return self.gates[name]
        if name in self.currents:
            return self.currents[name]
        raise AttributeError(
            f"Trace has no field {name!r}; gates: {sorted(self.gates)}, currents: "
            f"{sorted(self.currents) or 'none (pass currents=True to simulate)'}"
        )

    @property
    def ok(self) -> Array:
        """Boolean mask: True where the simulation succeeded."""
        return self.status == Status.OK

    def messages(self) -> list[str]:
        """Readable status of each member (flattened over batch axes)."""
        return [Status(int(s)).message for s in np.ravel(np.asarray(self.status))]

    def raise_if_failed(self) -> "Trace":
        """Raise ``RuntimeError`` naming the failed members, else return self."""
        status = np.asarray(self.status)
        if np.all(status == Status.OK):
            return self
        bad = np.argwhere(status != Status.OK) if status.ndim else [()]
        first = tuple(bad[0])
        raise RuntimeError(
            f"{len(bad)} simulation(s) failed; first at index {first}: "
            f"{Status(int(status[first])).message}."
        )


def status_from_flags(
    diffrax_result, finite: Array, invalid: Array
) -> Int[Array, "*batch"]:
    """Combine Diffrax's result with our own checks into a :class:`Status` code."""
    import diffrax as dfx

    code = jnp.where(
        diffrax_result == dfx.RESULTS.successful,
        Status.OK,
        jnp.where(
            diffrax_result == dfx.RESULTS.max_steps_reached,
            Status.MAX_STEPS_REACHED,
            Status.SOLVER_FAILED,
        ),
    )
    code = jnp.where((code == Status.OK) & ~finite, Status.NON_FINITE, code)
    return jnp.where(invalid, Status.INVALID_INPUT, code).astype(jnp.int32)
