"""Export a :class:`~hh_jax.PointNeuron` as a NeuroML 2 cell (libNeuroML).

Each channel becomes an ``ionChannelHH`` whose gates use NeuroML's standard
forms (``HHExpRate``, ``HHSigmoidRate``, ``HHExpLinearRate``; steady states as
``HH...Variable``) with the model's values baked in: the voltage offset and the
gate's ``shift_<gate>`` move the midpoint, ``tau_scale_<gate>`` divides the rate,
and the temperature dependence is a ``q10ExpTemp`` setting. The cell is one
cylindrical segment of the model's area (``L = diam``); the temperature is that
of a ``networkWithTemperature`` holding one instance of the cell.

Not expressible with standard forms, and so refused with
``NotImplementedError`` naming the channel: gates with Expression rates (the
M-current's time constant, the T-type Ca current's, the Ca-activated K
current's Ca dependence), gates given as steady state and time constant, and
concentration pools.
"""

import math
from pathlib import Path

import numpy as np

from ..channels._rates import ExpLinear, Exponential, Sigmoid
from ..model import PointNeuron
from ._declared import DeclaredChannel, declared_channel
from ._neuroml_units import written

DEFAULT_AREA_UM2 = 1000.0
_FORMS = (ExpLinear, Exponential, Sigmoid)
_ION = {"na": "na", "k": "k", "ca": "ca", None: "non_specific"}


def _import_neuroml():
    try:
        import neuroml
        import neuroml.writers
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "NeuroML export needs libNeuroML: pip install 'hh_jax[neuroml]'."
        ) from err
    return neuroml


def _form(neuroml, form, midpoint_shift: float, rate_scale: float, variable: bool):
    if not isinstance(form, _FORMS):
        raise TypeError(type(form).__name__)
    cls = neuroml.HHVariable if variable else neuroml.HHRate
    unit = "1" if variable else "1/ms"
    return cls(
        type=form.neuroml_type(variable),
        rate=written(form.rate * rate_scale, unit),
        midpoint=written(form.midpoint + midpoint_shift, "mV"),
        scale=written(form.scale, "mV"),
    )


def _midpoint_shift(declared: DeclaredChannel, dg) -> float:
    shift = 0.0
    if declared.voltage_offset is not None:
        sign, name = declared.voltage_offset
        shift += sign * declared.values[name]
    if dg.shifted:
        shift += declared.values[f"shift_{dg.name}"]
    return shift


def ion_channel(neuroml, declared: DeclaredChannel):
    """The ``ionChannelHH`` of a declared channel (values baked in)."""
    channel = neuroml.IonChannelHH(
        id=declared.name,
        conductance="10pS",
        species=None if declared.ion is None else declared.ion,
        notes=f"hh_jax.channels.{declared.name}, exported by hh_jax",
    )
    q10 = None
    if declared.q10 is not None:
        q10 = neuroml.Q10Settings(
            type="q10ExpTemp",
            q10_factor=written(declared.q10, "1"),
            experimental_temp=written(declared.reference_temperature, "degC"),
        )
    for dg in declared.gates:
        gate = dg.gate
        forms = gate.forms
        if not all(isinstance(f, _FORMS) for f in forms):
            bad = next(type(f).__name__ for f in forms if not isinstance(f, _FORMS))
            raise NotImplementedError(
                f"{declared.name}: gate {gate.name!r} uses a {bad} rate, which "
                "NeuroML's standard HH forms cannot express."
            )
        if gate.alpha is None and not gate.instantaneous:
            raise NotImplementedError(
                f"{declared.name}: gate {gate.name!r} is given by a steady state and "
                "a time constant; NeuroML has no standard time-constant form."
            )
        shift = _midpoint_shift(declared, dg)
        if gate.instantaneous:
            channel.gate_hh_instantaneouses.append(
                neuroml.GateHHInstantaneous(
                    id=gate.name,
                    instances=gate.power,
                    steady_state=_form(neuroml, gate.inf, shift, 1.0, True),
                )
            )
            continue
        scale = 1.0
        if dg.scaled:
            scale = 1.0 / declared.values[f"tau_scale_{gate.name}"]
        channel.gate_hh_rates.append(
            neuroml.GateHHRates(
                id=gate.name,
                instances=gate.power,
                q10_settings=q10,
                forward_rate=_form(neuroml, gate.alpha, shift, scale, False),
                reverse_rate=_form(neuroml, gate.beta, shift, scale, False),
            )
        )
    return channel


def to_neuroml(
    model: PointNeuron,
    out_dir: str | Path,
    *,
    area_um2: float | None = None,
    cell_id: str | None = None,
    V_init: float = -65.0,
    validate: bool = True,
) -> Path:
    """Write `model` as a NeuroML 2 document ``<cell_id>.cell.nml`` in `out_dir`
    (channels, cell, a one-cell network at the model's temperature) and return
    its path.

    `area_um2`: membrane area (um^2; default 1000). `cell_id`: default the
    model's class name. `V_init`: the cell's initial potential (mV).
    `validate`: check the file against the NeuroML 2 schema
    (``neuroml.utils.validate_neuroml2``). Raises ``NotImplementedError`` naming
    a channel or pool that NeuroML's standard forms cannot express."""
    neuroml = _import_neuroml()
    if not isinstance(model, PointNeuron):
        raise TypeError(f"`model` must be an hh_jax.PointNeuron; got {type(model)}.")
    if model.pools is not None:
        names = ", ".join(type(p).__name__ for p in model.pools)
        raise NotImplementedError(
            f"the model has concentration pools ({names}); the NeuroML export "
            "writes channels with fixed reversals only."
        )
    area = DEFAULT_AREA_UM2 if area_um2 is None else float(area_um2)
    if not (math.isfinite(area) and area > 0):
        raise ValueError(f"`area_um2` must be > 0 um^2; got {area_um2!r}.")
    temperature = float(np.asarray(model.temperature))
    cell_id = cell_id or type(model).__name__
    doc = neuroml.NeuroMLDocument(id=cell_id)
    membrane = neuroml.MembraneProperties()
    for ch in model.channels:
        declared = declared_channel(ch, temperature)
        doc.ion_channel_hhs.append(ion_channel(neuroml, declared))
        membrane.channel_densities.append(
            neuroml.ChannelDensity(
                id=f"{declared.name}_density",
                ion_channel=declared.name,
                cond_density=written(declared.values[declared.conductance], "mS/cm^2"),
                erev=written(declared.values[declared.reversal], "mV"),
                ion=_ION[declared.ion],
            )
        )
    membrane.specific_capacitances.append(
        neuroml.SpecificCapacitance(
            value=written(float(np.asarray(model.C_m)), "uF/cm^2")
        )
    )
    membrane.init_memb_potentials.append(
        neuroml.InitMembPotential(value=written(float(V_init), "mV"))
    )
    membrane.spike_threshes.append(neuroml.SpikeThresh(value="0mV"))
    side = math.sqrt(area / math.pi)
    soma = neuroml.Segment(
        id=0,
        name="soma",
        proximal=neuroml.Point3DWithDiam(x=0.0, y=0.0, z=0.0, diameter=side),
        distal=neuroml.Point3DWithDiam(x=side, y=0.0, z=0.0, diameter=side),
    )
    cell = neuroml.Cell(
        id=cell_id,
        notes=f"hh_jax {type(model).__name__}; area {area!r} um^2",
        morphology=neuroml.Morphology(id=f"{cell_id}_morphology", segments=[soma]),
        biophysical_properties=neuroml.BiophysicalProperties(
            id=f"{cell_id}_biophysics",
            membrane_properties=membrane,
            intracellular_properties=neuroml.IntracellularProperties(
                resistivities=[neuroml.Resistivity(value="100ohm_cm")]
            ),
        ),
    )
    doc.cells.append(cell)
    doc.networks.append(
        neuroml.Network(
            id=f"{cell_id}_network",
            type="networkWithTemperature",
            temperature=written(temperature, "degC"),
            populations=[
                neuroml.Population(id=f"{cell_id}_pop", component=cell_id, size=1)
            ],
        )
    )
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{cell_id}.cell.nml"
    neuroml.writers.NeuroMLWriter.write(doc, str(path))
    if validate:
        from neuroml.utils import validate_neuroml2

        validate_neuroml2(str(path))
    return path
