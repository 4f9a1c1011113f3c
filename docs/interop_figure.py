"""Fit -> export -> NEURON, side by side: the figure of docs/interop.md.

    python docs/interop_figure.py FIT_DIR RECORDING --sweep K [--out PNG]

Exports the fitted cell of FIT_DIR with ``hh-jax export --to neuron`` replaying
sweep K of RECORDING, compiles and runs the exported cell.py in NEURON (CVODE,
atol = rtol = 1e-9), simulates the same model in hh_jax (rtol = atol = 1e-10)
and plots the recording, hh_jax and NEURON. Prints spike counts and the largest
spike-time difference.
"""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import matplotlib  # noqa: E402
import numpy as np  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import hh_jax as hh  # noqa: E402
from hh_jax.cli import main as cli_main  # noqa: E402
from hh_jax.io import load  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fit_dir")
    parser.add_argument("recording")
    parser.add_argument("--sweep", type=int, default=10)
    parser.add_argument(
        "--out", default=str(Path(__file__).parent / "img" / "interop_neuron.png")
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hh_jax_interop_"))
    cli = ["export", args.fit_dir, "--to", "neuron", "--out", str(work)]
    cli += ["--recording", args.recording, "--sweep", str(args.sweep), "--compile"]
    assert cli_main(cli) == 0
    # NEURON in its own process: python cell.py writes neuron_trace.npz
    subprocess.run([sys.executable, "cell.py"], cwd=work, check=True)
    nrn = np.load(work / "neuron_trace.npz")
    t, v_nrn = nrn["t"], nrn["v"]

    fitted = hh.export.load_fit(args.fit_dir)
    sweep = load(args.recording).zero_time()[args.sweep]
    stimulus = sweep.stimulus(fitted.area_um2 * 1e-8)
    y0 = hh.resting_state(
        fitted.model,
        holding_current=float(stimulus(0.0)),
        V_guess=fitted.V_rest if fitted.V_rest is not None else -65.0,
    )
    trace = hh.simulate(
        fitted.model,
        stimulus,
        jnp.asarray(t),
        y0=y0,
        rtol=1e-10,
        atol=1e-10,
        max_steps=2_000_000,
        gates=False,
    )
    v_jax = np.asarray(trace.V)
    s_jax = np.asarray(hh.spike_times(t, v_jax))
    s_nrn = np.asarray(hh.spike_times(t, v_nrn))
    n = int(np.sum(np.isfinite(s_jax)))
    gap = np.nanmax(np.abs(s_jax - s_nrn)) if s_jax.shape == s_nrn.shape else np.nan
    print(
        f"spikes: hh_jax {n}, NEURON {int(np.sum(np.isfinite(s_nrn)))}; largest "
        f"spike-time difference {gap:.2e} ms; "
        f"max |dV| {np.max(np.abs(v_jax - v_nrn)):.3g} mV"
    )

    fig, axes = plt.subplots(2, 1, figsize=(9, 6), height_ratios=(3, 2))
    ax = axes[0]
    ax.plot(sweep.t, sweep.V, color="0.7", lw=0.8, label="recording")
    ax.plot(t, v_jax, color="C0", lw=1.0, label="hh_jax (fitted)")
    ax.plot(t, v_nrn, color="C3", lw=0.8, ls="--", label="NEURON (exported)")
    ax.set_xlabel("t (ms)")
    ax.set_ylabel("V (mV)")
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(f"{fitted.model_name}: sweep {args.sweep}, fit -> export -> NEURON")
    ax = axes[1]
    if n:
        first = s_jax[0]
        window = (t > first - 5) & (t < first + 15)
        ax.plot(t[window], v_jax[window], color="C0", label="hh_jax")
        ax.plot(t[window], v_nrn[window], color="C3", ls="--", label="NEURON")
        ax.set_title(
            f"first spike; largest spike-time difference {gap:.1e} ms", fontsize=9
        )
    ax.set_xlabel("t (ms)")
    ax.set_ylabel("V (mV)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
