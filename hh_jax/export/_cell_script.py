"""The ``cell.py`` NEURON script of an exported cell.

The script is plain Python for NEURON's ``neuron`` package, without hh_jax: it
loads the compiled mechanisms beside it (compiling them with ``nrnivmodl`` if
there are none), builds one single-compartment section of the model's area
(``L = diam``, ``nseg = 1``), sets ``cm``, ``celsius`` and every mechanism's
parameters, starts from the hh_jax initial state (set after NEURON's INITIAL
blocks by an ``FInitializeHandler``) and replays the stimulus into an
``IClamp`` with ``Vector.play``.
"""

import json

_TEMPLATE = '''\
"""NEURON model of an hh_jax {model_name}, written by hh_jax.export.to_neuron.

Single compartment: area {area_um2:.10g} um^2 (L = diam = {diam_um:.10g} um),
cm {cm:.10g} uF/cm2, celsius {celsius:.10g} degC. Mechanisms (the .mod files
beside this script): {mechanisms}.

    python cell.py                 # run, write neuron_trace.npz, print spikes
    import cell; t, v = cell.run(t_stop=100.0, dt=0.025)

The stimulus is an IClamp at the centre, in nA ({n_breaks} breakpoints, played
as a step function). The initial state is hh_jax's (V = {v_init:.10g} mV).
"""

import subprocess
from pathlib import Path

import numpy as np
from neuron import h, load_mechanisms

HERE = Path(__file__).resolve().parent
MECHANISMS = {mechanisms!r}
AREA_UM2 = {area_um2!r}
CM = {cm!r}  # uF/cm2
CELSIUS = {celsius!r}  # degC
T_STOP = {t_stop!r}  # ms
# Mechanism parameters (NEURON units: gbar S/cm2, potentials mV, times ms, mM).
PARAMETERS = {parameters}
# Initial state: membrane potential (mV), gates by (mechanism, name), cai (mM).
V_INIT = {v_init!r}
INITIAL_GATES = {gates}
INITIAL_CONCENTRATIONS = {concentrations}
# Stimulus: IClamp amplitude (nA) from STIM_TIMES[k] (ms) until the next time.
STIM_TIMES = {stim_times}
STIM_NA = {stim_na}


def _loaded():
    names = set()
    mt = h.MechanismType(0)
    name = h.ref("")
    for i in range(int(mt.count())):
        mt.select(i)
        mt.selected(name)
        names.add(name[0])
    return names


def ensure_mechanisms(directory=HERE):
    """Load the compiled mechanisms (compiling them first if needed)."""
    if set(MECHANISMS) <= _loaded():
        return
    if not any(Path(directory).glob("*/libnrnmech.so")) and not any(
        Path(directory).glob("*/.libs/libnrnmech.so")
    ):
        subprocess.run(["nrnivmodl"], cwd=directory, check=True)
    load_mechanisms(str(directory))
    missing = set(MECHANISMS) - _loaded()
    if missing:
        raise RuntimeError(f"mechanisms not loaded: {{sorted(missing)}}")


class Cell:
    """The section, its clamp and the played vectors (keep it alive while running)."""

    def __init__(self):
        ensure_mechanisms()
        self.soma = h.Section(name="soma")
        side = float(np.sqrt(AREA_UM2 / np.pi))
        self.soma.L = side
        self.soma.diam = side
        self.soma.nseg = 1
        self.soma.cm = CM
        for mechanism, values in PARAMETERS.items():
            self.soma.insert(mechanism)
            for name, value in values.items():
                setattr(self.soma(0.5), f"{{name}}_{{mechanism}}", value)
        self.clamp = h.IClamp(self.soma(0.5))
        self.clamp.delay = 0.0
        self.clamp.dur = 1e9
        self.stim_t = h.Vector(STIM_TIMES)
        self.stim_i = h.Vector(STIM_NA)
        self.stim_i.play(self.clamp._ref_amp, self.stim_t, 0)
        # The handler's callback holds the section, not the Cell: no cycle, so
        # a Cell that goes out of scope frees its section.
        self.init_handler = h.FInitializeHandler(1, _initial_state_setter(self.soma))


def _initial_state_setter(soma):
    def set_initial_state():
        seg = soma(0.5)
        for (mechanism, name), value in INITIAL_GATES.items():
            setattr(seg, f"{{name}}_{{mechanism}}", value)
        for name, value in INITIAL_CONCENTRATIONS.items():
            setattr(seg, name, value)

    return set_initial_state


def run(t_stop=T_STOP, dt=0.025, *, cvode=True, atol=1e-9, rtol=1e-9):
    """Simulate from 0 to `t_stop` (ms); return (t, v), sampled every `dt` ms.

    cvode=True: variable-step CVODE with tolerances atol, rtol (output
    interpolated at the sample times); cvode=False: fixed steps of `dt`."""
    cell = Cell()
    h.celsius = CELSIUS
    solver = h.CVode()
    solver.active(1 if cvode else 0)
    n = int(round(t_stop / dt)) + 1
    times = dt * np.arange(n)
    if cvode:
        solver.atol(atol)
        solver.rtol(rtol)
        sample_times = h.Vector(times)  # must outlive the run
        v = h.Vector().record(cell.soma(0.5)._ref_v, sample_times)
    else:
        h.dt = dt
        v = h.Vector().record(cell.soma(0.5)._ref_v)
    h.finitialize(V_INIT)
    if cvode:
        solver.solve(t_stop + 0.5 * dt)
    else:
        while h.t < t_stop - 0.5 * dt:
            h.fadvance()
    return times, np.array(v)[:n]


if __name__ == "__main__":
    t, v = run()
    np.savez(HERE / "neuron_trace.npz", t=t, v=v)
    up = np.flatnonzero((v[:-1] < 0.0) & (v[1:] >= 0.0))
    print(f"{{up.size}} spikes (0 mV crossings) at about {{np.round(t[up + 1], 2)}} ms")
    print(f"wrote {{HERE / 'neuron_trace.npz'}}")
'''


def _literal(value) -> str:
    """A Python literal that round-trips floats exactly."""
    return repr(value)


def cell_script(
    *,
    model_name: str,
    mechanisms: list[str],
    area_um2: float,
    cm: float,
    celsius: float,
    t_stop: float,
    parameters: dict[str, dict[str, float]],
    v_init: float,
    gates: dict[tuple[str, str], float],
    concentrations: dict[str, float],
    stim_times: list[float],
    stim_na: list[float],
) -> str:
    """The text of ``cell.py`` (see the module docstring)."""
    params = (
        "{\n"
        + "".join(f"    {m!r}: {json.dumps(v)},\n" for m, v in parameters.items())
        + "}"
    )
    gate_text = "{\n" + "".join(f"    {k!r}: {v!r},\n" for k, v in gates.items()) + "}"
    return _TEMPLATE.format(
        model_name=model_name,
        mechanisms=list(mechanisms),
        area_um2=area_um2,
        diam_um=(area_um2 / 3.141592653589793) ** 0.5,
        cm=cm,
        celsius=celsius,
        t_stop=t_stop,
        parameters=params,
        v_init=v_init,
        gates=gate_text,
        concentrations=_literal(concentrations),
        stim_times=_literal(list(stim_times)),
        stim_na=_literal(list(stim_na)),
        n_breaks=len(stim_times),
    )
