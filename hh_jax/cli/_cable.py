"""``hh-jax cable``: a propagating action potential on an HH cable (unbranched, or
a cell from an SWC file), its conduction velocity, a JSON summary and a figure."""

import argparse
import json
import time
from pathlib import Path

from ._common import (
    add_dt_option,
    add_model_options,
    add_precision_options,
    add_threshold_option,
    squid_parameter_infos,
)

# The squid giant axon of Hodgkin & Huxley (1952): 476 um, 35.4 ohm*cm, 18.5 degC.
DEFAULTS = dict(length=1e5, diam=476.0, Ra=35.4, temperature=18.5)
SITES = (0.3, 0.7)  # fractions of the length between which velocity is measured


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "cable",
        help="simulate a propagating action potential on an HH cable; write its "
        "conduction velocity (JSON) and V against x (PNG)",
        description="Simulate an unbranched Hodgkin-Huxley cable (or a cell from an "
        "SWC file) from rest at -65 mV, with a brief suprathreshold current at the "
        "x = 0 end, and measure the conduction velocity between x = 0.3 and 0.7 of "
        "the length (interpolated --threshold crossings at the nodes there). Writes "
        "DIR/cable.json and DIR/cable.png. Units: lengths um, R_a ohm*cm, time ms, "
        "current nA, V mV, temperature degC; membrane parameters as in the rest of "
        "hh-jax (mS/cm^2, mV, uF/cm^2).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    geometry = parser.add_argument_group("cable")
    geometry.add_argument(
        "--length",
        type=float,
        default=DEFAULTS["length"],
        metavar="UM",
        help="cable length, um (default: 10 cm of squid axon)",
    )
    geometry.add_argument(
        "--diam",
        type=float,
        default=DEFAULTS["diam"],
        metavar="UM",
        help="diameter, um (the squid giant axon of Hodgkin & Huxley 1952)",
    )
    geometry.add_argument(
        "--Ra",
        type=float,
        default=DEFAULTS["Ra"],
        metavar="OHM_CM",
        help="axial resistivity, ohm*cm",
    )
    geometry.add_argument(
        "--nseg",
        type=int,
        default=None,
        metavar="N",
        help="segments (unbranched cable: one number; with --morphology: every "
        "section). Default: NEURON's d_lambda rule (100 Hz, d_lambda 0.1), which "
        "gives 97 for the default axon; conduction velocities converge to 0.1 %% "
        "by ~400-800 segments",
    )
    geometry.add_argument(
        "--morphology",
        type=Path,
        default=None,
        metavar="FILE.swc",
        help="a branched cell from an SWC file instead of the cylinder (--length "
        "and --diam are then ignored); stimulus in the root section's middle, "
        "velocity along the path to the node farthest from it",
    )
    geometry.add_argument(
        "--temperature",
        type=float,
        default=DEFAULTS["temperature"],
        metavar="C",
        help="temperature, degC (rates scale by 3^((T - 6.3)/10))",
    )
    run = parser.add_argument_group("simulation")
    run.add_argument(
        "--duration", type=float, default=10.0, metavar="MS", help="simulated time, ms"
    )
    add_dt_option(
        run,
        "--step-dt",
        0.005,
        "time step, ms, also the save interval (Crank-Nicolson: velocity within "
        "0.02 %% of the converged value at 0.005 ms, 0.1 %% at 0.01 ms, 0.8 %% at "
        "0.025 ms)",
    )
    run.add_argument(
        "--method",
        choices=("crank_nicolson", "backward_euler"),
        default="crank_nicolson",
        help="time stepping: staggered Crank-Nicolson (second order, NEURON's "
        "secondorder=2) or backward Euler (first order, NEURON's default)",
    )
    add_threshold_option(run, extra="; arrival times are its first crossings")
    stim = parser.add_argument_group("stimulus (a current pulse)")
    stim.add_argument(
        "--stim-amp",
        type=float,
        default=None,
        metavar="NA",
        help="amplitude, nA (default: the charge that depolarises the membrane "
        "within one length constant of the stimulus by 100 mV, over --stim-dur)",
    )
    stim.add_argument(
        "--stim-dur", type=float, default=0.1, metavar="MS", help="duration, ms"
    )
    stim.add_argument(
        "--stim-x",
        type=float,
        default=0.0,
        metavar="X",
        help="position, fraction of the length (unbranched cable)",
    )
    infos = {k: v for k, v in squid_parameter_infos().items() if k != "temperature"}
    add_model_options(parser, infos)
    out = parser.add_argument_group("output")
    out.add_argument(
        "--out",
        type=Path,
        default=Path("cable_out"),
        metavar="DIR",
        help="output directory for cable.json and cable.png",
    )
    add_precision_options(parser)


def _check(args) -> None:
    for name, value in (
        ("length", args.length),
        ("diam", args.diam),
        ("Ra", args.Ra),
        ("duration", args.duration),
        ("step-dt", args.step_dt),
        ("stim-dur", args.stim_dur),
    ):
        if not value > 0:
            unit = {"Ra": "ohm*cm", "duration": "ms", "step-dt": "ms", "stim-dur": "ms"}
            raise ValueError(
                f"--{name} must be > 0 {unit.get(name, 'um')}; got {value}."
            )
    if args.nseg is not None and args.nseg < 1:
        raise ValueError(f"--nseg must be a positive integer; got {args.nseg}.")
    if not 0.0 <= args.stim_x <= 1.0:
        raise ValueError(f"--stim-x must lie in [0, 1]; got {args.stim_x}.")


def _default_amplitude(cable, node: int, duration: float) -> float:
    """nA: the charge C_m * A * 100 mV over `duration` ms, A the membrane within
    one DC length constant (at rest) of the cylinder at `node`, or the whole cell
    if that is smaller."""
    import numpy as np

    from ..cable import length_constant, membrane_conductance
    from ..model import resting_state

    neuron = cable.neuron
    rest = resting_state(neuron)
    g_m = float(np.max(np.asarray(membrane_conductance(neuron, rest))))
    layout = cable.layout
    section = layout.morphology.sections[int(layout.section[node])]
    diam = float(np.mean(section.diams))
    lam = float(length_constant(diam, float(np.max(np.asarray(cable.R_a))), g_m))
    area_um2 = min(np.pi * diam * lam, float(np.sum(np.asarray(cable.area))))
    C_m = float(np.max(np.asarray(neuron.C_m)))
    charge_nC = C_m * area_um2 * 1e-8 * 100.0  # uF * mV = nC
    return charge_nC / duration * 1e3  # nC / ms = uA; in nA


def run(args) -> int:
    import jax.numpy as jnp
    import numpy as np

    from .. import cable as hc
    from ..model import HodgkinHuxley
    from ..spikes import first_spike_times
    from ..stimulus import Step
    from ._common import model_overrides

    _check(args)
    neuron = HodgkinHuxley(temperature=args.temperature).replace(
        **model_overrides(args)
    )
    if args.morphology is not None:
        morphology = hc.load_swc(args.morphology)
    else:
        morphology = hc.Morphology.unbranched(args.length, args.diam)
    cable = hc.Cable.from_morphology(morphology, neuron, R_a=args.Ra, nseg=args.nseg)
    layout = cable.layout
    if args.morphology is not None:
        stim_at = (0, 0.5)
        stim_node = cable.node(stim_at)
        far = _farthest(layout, stim_node)
        path = _path(layout, stim_node, far)
        dist = np.array([layout.path_distance(stim_node, n) for n in path])
        total = dist[-1]
        sites = [int(path[np.argmin(np.abs(dist - f * total))]) for f in SITES]
    else:
        stim_at = (0, args.stim_x)
        stim_node = cable.node(stim_at)
        sites = list(cable.nodes(list(SITES)))
    amplitude = args.stim_amp
    if amplitude is None:
        amplitude = _default_amplitude(cable, stim_node, args.stim_dur)
    injection = hc.Injection(Step(amplitude, 0.0, args.stim_dur), *stim_at)
    ts = np.arange(0.0, args.duration + 0.5 * args.step_dt, args.step_dt)
    start = time.perf_counter()
    trace = hc.simulate_cable(
        cable, injection, ts, dt=args.step_dt, method=args.method, throw=False
    )
    trace.V.block_until_ready()
    wall = time.perf_counter() - start
    V = np.asarray(trace.V)
    ok = bool(trace.ok)
    rows = [trace.nodes.index(n) for n in sites]
    arrivals = np.asarray(
        first_spike_times(trace.t, jnp.asarray(V[rows]), args.threshold)
    )
    distance = layout.path_distance(*sites)
    velocity = None
    error = None
    if not ok:
        error = f"the simulation failed (status {int(trace.status)})"
    elif not np.all(np.isfinite(arrivals)) or arrivals[1] <= arrivals[0]:
        error = (
            "no action potential travelled from x = 0.3 to x = 0.7 "
            f"({args.threshold:g} mV crossings: "
            f"{arrivals.tolist()} ms); raise --stim-amp or --duration"
        )
    else:
        velocity = distance / (arrivals[1] - arrivals[0]) * 1e-3  # um/ms -> m/s
    result = {
        "velocity_m_per_s": velocity,
        "nseg": layout.nseg[0] if args.morphology is None else list(layout.nseg),
        "num_nodes": cable.num_nodes,
        "solver": {
            "method": args.method,
            "order": 2 if args.method == "crank_nicolson" else 1,
            "dt_ms": args.step_dt,
            "voltage": "implicit, tree (Hines) elimination, O(N) per step",
            "gates": "exponential (Rush-Larsen) from the model's state_rates"
            + (", staggered half a step" if args.method == "crank_nicolson" else ""),
        },
        "geometry": {
            "morphology": None if args.morphology is None else str(args.morphology),
            "length_um": None if args.morphology else args.length,
            "diam_um": None if args.morphology else args.diam,
            "Ra_ohm_cm": args.Ra,
        },
        "temperature_degC": args.temperature,
        "duration_ms": args.duration,
        "stimulus": {
            "amplitude_nA": amplitude,
            "start_ms": 0.0,
            "duration_ms": args.stim_dur,
            "at": layout.describe(stim_node),
        },
        "measured_between": {
            "fractions": list(SITES),
            "nodes": [layout.describe(n) for n in sites],
            "distance_um": distance,
            "arrival_ms": [float(a) if np.isfinite(a) else None for a in arrivals],
            "threshold_mV": args.threshold,
        },
        "wall_s": wall,
        "status": "ok" if error is None else "error",
    }
    if error is not None:
        result["error"] = error
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "cable.json").write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"{cable.num_nodes} nodes, {trace.num_steps} steps of {args.step_dt:g} ms "
        f"({args.method}) in {wall:.2f} s"
    )
    _plot(layout, trace, stim_node, out / "cable.png", args, arrivals)
    print(f"wrote {out / 'cable.json'} and {out / 'cable.png'}")
    if error is not None:
        print(f"hh-jax cable: error: {error}")
        return 3
    print(f"conduction velocity {velocity:.4f} m/s")
    return 0


def _farthest(layout, node):
    import numpy as np

    distances = [layout.path_distance(node, i) for i in range(layout.num_nodes)]
    return int(np.argmax(distances))


def _path(layout, a, b):
    """Nodes on the tree path from `a` to `b`."""

    def to_root(i):
        out = []
        while i >= 0:
            out.append(int(i))
            i = int(layout.parent[i])
        return out

    up_a, up_b = to_root(a), to_root(b)
    common = set(up_a) & set(up_b)
    top = next(i for i in up_a if i in common)
    return up_a[: up_a.index(top) + 1] + list(reversed(up_b[: up_b.index(top)]))


def _plot(layout, trace, stim_node, path, args, arrivals) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    t = np.asarray(trace.t)
    V = np.asarray(trace.V)
    x = np.array([layout.path_distance(stim_node, n) for n in trace.nodes]) * 1e-3
    order = np.argsort(x)
    fig, ax = plt.subplots(figsize=(7.5, 4.0))
    # Snapshots while the spike travels (to 1.5 times its arrival at x = 0.7).
    end = t[-1]
    if np.all(np.isfinite(arrivals)):
        end = min(end, 1.5 * float(arrivals[-1]))
    times = np.linspace(t[0], end, 7)[1:]
    colours = plt.cm.viridis(np.linspace(0.0, 0.9, len(times)))
    for when, colour in zip(times, colours):
        k = int(np.argmin(np.abs(t - when)))
        if args.morphology is None:
            ax.plot(x[order], V[order, k], color=colour, label=f"{t[k]:.2f} ms")
        else:
            ax.plot(x, V[:, k], ".", ms=3, color=colour, label=f"{t[k]:.2f} ms")
    ax.set_xlabel("distance from the stimulus (mm)")
    ax.set_ylabel("V (mV)")
    title = (
        f"{args.morphology.name}"
        if args.morphology is not None
        else f"cable {args.length:g} um x {args.diam:g} um"
    )
    ax.set_title(f"{title}, R_a {args.Ra:g} ohm cm, {args.temperature:g} degC")
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
