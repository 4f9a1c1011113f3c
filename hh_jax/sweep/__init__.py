"""Large parameter sweeps: chunked, sharded over local devices, split over
processes (``jax.distributed``), streamed to disk and resumable.

::

    import hh_jax as hh
    from hh_jax.sweep import Grid, open_sweep, run_sweep

    grid = Grid.parse(["g_Na=50:200:256", "g_K=10:60:256"])
    run_sweep(hh.HodgkinHuxley(), grid, hh.Step(10.0, 5.0, 55.0), "out/",
              duration=60.0)
    rate = open_sweep("out/").feature("rate")      # (256, 256), Hz

See ``docs/sweeps.md`` for the on-disk format and multi-process runs.
"""

from ._chunk import neuron_mesh as neuron_mesh
from ._features import FEATURE_UNITS as FEATURE_UNITS
from ._features import spike_features as spike_features
from ._features import stimulus_window as stimulus_window
from ._results import SweepResults as SweepResults
from ._results import open_sweep as open_sweep
from ._run import SweepSettings as SweepSettings
from ._run import run_sweep as run_sweep
from ._space import AbstractSpace as AbstractSpace
from ._space import Axis as Axis
from ._space import Grid as Grid
from ._space import ParameterTable as ParameterTable
from ._space import latin_hypercube as latin_hypercube
