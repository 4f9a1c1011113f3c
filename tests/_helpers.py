"""What several test modules share (imported as ``from _helpers import ...``)."""

import hh_jax as hh

# Every preset model class of the library.
PRESETS = (
    hh.HodgkinHuxley,
    hh.CorticalRegularSpiking,
    hh.CorticalFastSpiking,
    hh.CorticalIntrinsicBursting,
    hh.CorticalLowThresholdSpiking,
    hh.FastSpikingInterneuron,
    hh.AdaptingPyramidal,
)
