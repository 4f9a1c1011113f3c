"""``hh-jax sweep``: per-neuron features over a parameter grid, chunked to disk,
sharded over the local devices, optionally split over processes/machines."""

import argparse
import os
import sys
from pathlib import Path

from ._common import (
    add_dt_option,
    add_precision_options,
    add_stimulus_options,
    add_threshold_option,
    model_overrides,
    stimulus_from_args,
)

MODELS = ("hh", "cortical-rs")
FEATURES = ("rate", "latency", "spike_count", "status")


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "sweep",
        help="simulate a parameter grid (up to 10^7+ neurons) and write per-neuron "
        "features (spike count, rate, latency) in resumable chunks",
        description="Simulate every point of a parameter grid under one stimulus "
        "with fixed-step RK4, sharded over all local devices, and write per-neuron "
        "features to OUT/chunks/ (one NPZ per chunk), a manifest OUT/sweep.json, a "
        "summary and a plot. Rerunning the same command resumes: finished chunks "
        "are kept. Units: time ms, voltage mV, current density uA/cm^2, "
        "conductance mS/cm^2, capacitance uF/cm^2, temperature degC; rates Hz.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "axes",
        nargs="*",
        metavar="PARAM=LOW:HIGH:N",
        help="grid axes, N points from LOW to HIGH inclusive in the parameter's "
        "unit; append :log for geometric spacing (e.g. g_Na=50:200:64 "
        "g_K=5:80:64:log). The grid is their cartesian product.",
    )
    parser.add_argument(
        "--table",
        type=Path,
        metavar="FILE",
        help="explicit parameter sets instead of a grid: .npz with one 1-D array "
        "per parameter, or .csv with a header of parameter names",
    )
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    model = parser.add_argument_group("model")
    model.add_argument(
        "--model",
        choices=MODELS,
        default="hh",
        help="hh: squid axon (6.3 degC); cortical-rs: Pospischil et al. 2008 "
        "regular-spiking cell (36 degC)",
    )
    model.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="fix a model parameter (its unit), e.g. --set temperature=10",
    )
    model.add_argument(
        "--params",
        type=Path,
        metavar="FILE.json",
        help='fixed parameter values as JSON, {"g_L": 0.2, ...}, or a fit result',
    )
    add_stimulus_options(parser)
    sim = parser.add_argument_group("simulation and features")
    sim.add_argument("--duration", type=float, required=True, help="simulated ms")
    add_dt_option(sim, "--step-dt", 0.05, "RK4 step, ms")
    sim.add_argument(
        "--y0",
        choices=("steady", "rest"),
        default="steady",
        help="initial state: steady: V = -65 mV, gates at steady state; rest: each "
        "neuron's own resting state",
    )
    # --start: the name of earlier versions, still accepted.
    sim.add_argument(
        "--start",
        dest="y0",
        choices=("steady", "rest"),
        default=argparse.SUPPRESS,
        help=argparse.SUPPRESS,
    )
    add_threshold_option(sim)
    sim.add_argument(
        "--window",
        nargs=2,
        type=float,
        metavar=("START", "STOP"),
        help="rate/latency window, ms (default: where the stimulus is nonzero)",
    )
    sim.add_argument(
        "--max-spikes",
        type=int,
        default=None,
        help="spike-time slots per neuron (default: room for 500 Hz)",
    )
    sim.add_argument("--save-spikes", action="store_true", help="store spike times")
    sim.add_argument(
        "--save-v",
        type=float,
        default=None,
        metavar="INTERVAL",
        help="also store V every INTERVAL ms (large: 8 bytes x neurons x samples)",
    )
    run = parser.add_argument_group("execution")
    run.add_argument(
        "--chunk-size", type=int, default=4096, help="parameter sets per chunk file"
    )
    run.add_argument(
        "--coordinator",
        default=os.environ.get("HH_JAX_COORDINATOR"),
        metavar="HOST:PORT",
        help="jax.distributed coordinator (process 0's address) for a run over "
        "several processes/machines; 'auto' lets JAX detect SLURM/MPI "
        "(env HH_JAX_COORDINATOR)",
    )
    run.add_argument(
        "--num-processes",
        type=int,
        default=_env_int("HH_JAX_NUM_PROCESSES"),
        metavar="P",
        help="number of processes (env HH_JAX_NUM_PROCESSES)",
    )
    run.add_argument(
        "--process-id",
        type=int,
        default=_env_int("HH_JAX_PROCESS_ID"),
        metavar="I",
        help="this process, 0..P-1; it computes chunks I, I+P, ... (env "
        "HH_JAX_PROCESS_ID)",
    )
    run.add_argument(
        "--wait-timeout",
        type=float,
        default=None,
        metavar="S",
        help="process 0: seconds to wait for the other processes' chunks "
        "(default: no limit)",
    )
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    out = parser.add_argument_group("plot")
    out.add_argument("--plot-feature", choices=FEATURES, default="rate")
    out.add_argument(
        "--plot-axes",
        nargs=2,
        metavar=("X", "Y"),
        help="grid axes of the heat map (default: the first two)",
    )
    out.add_argument("--no-plot", action="store_true", help="skip summary.png")
    add_precision_options(parser)


def _env_int(name: str) -> int | None:
    value = os.environ.get(name)
    return None if value in (None, "") else int(value)


def _model(args):
    from ..model import CorticalRegularSpiking, HodgkinHuxley

    model = HodgkinHuxley() if args.model == "hh" else CorticalRegularSpiking()
    values = model_overrides(args)
    for text in args.set:
        name, sep, value = text.partition("=")
        try:
            values[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise ValueError(f"--set expects NAME=VALUE with a number; got {text!r}.")
    if values:  # unknown names: the shared error, listing the valid ones
        from ..parameters import select

        select(model, None, list(values))
    return model.replace(**values)


def _space(args):
    import numpy as np

    from ..sweep import Grid, ParameterTable

    if args.table is None:
        if not args.axes:
            raise ValueError("no sweep axes: give PARAM=LOW:HIGH:N (or --table FILE).")
        return Grid.parse(args.axes)
    if args.axes:
        raise ValueError("give either grid axes or --table, not both.")
    suffix = args.table.suffix.lower()
    if suffix == ".npz":
        with np.load(args.table) as data:
            return ParameterTable({k: data[k] for k in data.files})
    if suffix == ".csv":
        header = args.table.read_text().splitlines()[0]
        names = [h.strip().split(" ")[0].split("(")[0] for h in header.split(",")]
        rows = np.loadtxt(args.table, delimiter=",", skiprows=1, ndmin=2)
        return ParameterTable({n: rows[:, k] for k, n in enumerate(names)})
    raise ValueError(f"--table must be .npz or .csv; got {args.table}.")


def _distributed(args) -> None:
    if args.coordinator is None:
        if args.num_processes not in (None, 1):
            raise ValueError("--num-processes > 1 needs --coordinator HOST:PORT.")
        return
    import jax

    # jax.distributed must be initialised before JAX's backend starts; building
    # the parser makes no arrays, so nothing has started it yet.
    if args.coordinator == "auto":
        jax.distributed.initialize()
        return
    if args.num_processes is None or args.process_id is None:
        raise ValueError("--coordinator needs --num-processes and --process-id.")
    jax.distributed.initialize(
        coordinator_address=args.coordinator,
        num_processes=args.num_processes,
        process_id=args.process_id,
    )


def run(args) -> int:
    import jax

    from ..sweep import run_sweep

    space = _space(args)  # NumPy only: jax.distributed must come before arrays
    _distributed(args)
    model = _model(args)
    space.validate(model)  # UnknownParameterError is a ValueError: exit status 2
    stimulus = stimulus_from_args(args)
    devices = jax.local_devices()
    me, count = jax.process_index(), jax.process_count()
    if me == 0:
        shape = " x ".join(map(str, space.shape))
        print(
            f"sweep of {space.size:,} parameter sets ({shape}) over "
            f"{', '.join(space.names)}: {count} process(es), "
            f"{len(devices)} {devices[0].platform} device(s) each"
        )
    try:
        results = run_sweep(
            model,
            space,
            stimulus,
            args.out,
            duration=args.duration,
            dt=args.step_dt,
            chunk_size=args.chunk_size,
            max_spikes=args.max_spikes,
            threshold=args.threshold,
            window=None if args.window is None else tuple(args.window),
            y0=args.y0,
            save_spikes=args.save_spikes,
            save_interval=args.save_v,
            progress=False if args.no_progress else None,
            wait_timeout=args.wait_timeout,
        )
    except KeyboardInterrupt:
        print(
            f"interrupted; run the same command again to resume ({args.out}).",
            file=sys.stderr,
        )
        return 130
    if me != 0:
        print(f"process {me}: done; process 0 writes the summary.")
        return 0
    if not results.complete:
        missing = len(results.missing_chunks())
        print(
            f"{missing} chunk(s) still missing after --wait-timeout; rerun to resume.",
            file=sys.stderr,
        )
        return 1
    s = results.summary()
    print(
        f"{s['ok']:,} ok, {s['failed']:,} failed, {s['spiking']:,} spiking; "
        f"highest rate {s['rate_max_Hz'] or 0:.4g} Hz"
    )
    print(f"wrote {args.out}/sweep.json and {results.num_chunks} chunk file(s)")
    if not args.no_plot:
        import matplotlib

        matplotlib.use("Agg")
        from ..plot import plot_sweep

        x, y = args.plot_axes or (None, None)
        fig = plot_sweep(results, args.plot_feature, x=x, y=y)
        path = Path(args.out) / "summary.png"
        fig.savefig(path, dpi=120)
        print(f"wrote {path}")
    return 0
