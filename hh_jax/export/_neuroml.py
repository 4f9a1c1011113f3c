"""Export a :class:`~hh_jax.PointNeuron` as a NeuroML 2 cell (libNeuroML).

Each channel becomes an ``ionChannelHH``. Gates whose forms are NeuroML's
standard ones (``HHExpRate``, ``HHSigmoidRate``, ``HHExpLinearRate``; steady
states as ``HH...Variable``) are written with the model's values baked in: the
voltage offset and the gate's ``shift_<gate>`` move the midpoint,
``tau_scale_<gate>`` divides the rate. Other forms (the M current's time
constant, the T-type Ca current's, the Ca-activated K current's Ca dependence)
are LEMS ComponentTypes declared in the document (:mod:`._lems`); a gate given
by a steady state and a time constant is a ``gateHHtauInf``. The temperature
dependence is a ``q10ExpTemp`` setting on every gate with a time course.

A Ca pool is a ``fixedFactorConcentrationModel`` (:mod:`._neuroml_pool`) with a
``species`` of the cell starting at its steady state at `V_init`; Ca-dependent
rates read NeuroML's ``caConc``. The cell is one cylindrical segment of the
model's area (``L = diam``); the temperature is that of a
``networkWithTemperature`` holding one instance of the cell.
"""

import functools
import math
from pathlib import Path

import numpy as np

from ..channels._rates import ExpLinear, Exponential, Sigmoid
from ..model import PointNeuron, steady_state
from ._declared import DeclaredChannel, declared_channel
from ._lems import CALCIUM, FormType, component_type
from ._neuroml_pool import pool_element, pool_note
from ._neuroml_units import written

DEFAULT_AREA_UM2 = 1000.0
# extracellular Ca (mM) NeuroML's species needs; unused (fixed reversals)
EXTERNAL_CA_MM = 2.0
_FORMS = (ExpLinear, Exponential, Sigmoid)
_GATE_ELEMENTS = {
    "gateHHrates": ("GateHHRates", "gate_hh_rates"),
    "gateHHtauInf": ("GateHHTauInf", "gate_hh_tau_infs"),
    "gateHHInstantaneous": ("GateHHInstantaneous", "gate_hh_instantaneouses"),
}
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


def _shift_terms(declared: DeclaredChannel, dg) -> tuple[tuple[float, str], ...]:
    terms = []
    if declared.voltage_offset is not None:
        terms.append(declared.voltage_offset)
    if dg.shifted:
        terms.append((1.0, f"shift_{dg.name}"))
    return tuple(terms)


class _GateWriter:
    """Writes the forms of one gate: standard forms with the values baked in,
    anything else as a ComponentType (collected in `types`)."""

    def __init__(self, neuroml, declared: DeclaredChannel, dg, types: list):
        self.neuroml, self.declared, self.dg, self.types = neuroml, declared, dg, types
        self.shift = _midpoint_shift(declared, dg)
        self.tau_scale = f"tau_scale_{dg.name}" if dg.scaled else None

    def _custom(self, form, role: str, part: str, element_cls):
        name = f"{self.declared.name}_{self.dg.name}_{part}"
        spec = FormType(
            name=name,
            role=role,
            form=form,
            values=self.declared.values,
            shift=_shift_terms(self.declared, self.dg),
            tau_scale=None if role == "variable" else self.tau_scale,
        )
        try:
            self.types.append(component_type(self.neuroml, spec, self.declared.reads))
        except NotImplementedError as err:
            raise NotImplementedError(
                f"{self.declared.name}: gate {self.dg.name!r} ({part}): {err}"
            ) from None
        return element_cls(type=name)

    def rate(self, form, part: str):
        if isinstance(form, _FORMS):
            scale = 1.0
            if self.tau_scale is not None:
                scale = 1.0 / self.declared.values[self.tau_scale]
            return _form(self.neuroml, form, self.shift, scale, False)
        return self._custom(form, "rate", part, self.neuroml.HHRate)

    def steady(self, form):
        if isinstance(form, _FORMS):
            return _form(self.neuroml, form, self.shift, 1.0, True)
        return self._custom(form, "variable", "inf", self.neuroml.HHVariable)

    def time(self, form):
        return self._custom(form, "time", "tau", self.neuroml.HHTime)


def ion_channel(neuroml, declared: DeclaredChannel, types: list | None = None):
    """The ``ionChannelHH`` of a declared channel (values baked in). The
    ComponentTypes its non-standard forms need are appended to `types`."""
    types = [] if types is None else types
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
    gates = []  # (NeuroML gate type, its children)
    for dg in declared.gates:
        gate = dg.gate
        write = _GateWriter(neuroml, declared, dg, types)
        common = {"id": gate.name, "instances": gate.power}
        if gate.instantaneous:
            gates.append(
                (
                    "gateHHInstantaneous",
                    {**common, "steady_state": write.steady(gate.inf)},
                )
            )
        elif gate.alpha is not None:
            rates = {
                "forward_rate": write.rate(gate.alpha, "alpha"),
                "reverse_rate": write.rate(gate.beta, "beta"),
            }
            gates.append(("gateHHrates", {**common, "q10_settings": q10, **rates}))
        else:
            course = {
                "time_course": write.time(gate.tau),
                "steady_state": write.steady(gate.inf),
            }
            gates.append(("gateHHtauInf", {**common, "q10_settings": q10, **course}))
    kinds = {kind for kind, _ in gates}
    if len(kinds) > 1:  # the schema allows one kind of typed gate element per
        for kind, fields in gates:  # channel: write each as <gate type=...>
            channel.gates.append(neuroml.GateHHUndetermined(type=kind, **fields))
        return channel
    for kind, fields in gates:
        cls, attr = _GATE_ELEMENTS[kind]
        getattr(channel, attr).append(getattr(neuroml, cls)(**fields))
    return channel


@functools.cache
def _schema(xsd: str):
    from lxml import etree

    return etree.XMLSchema(etree.parse(xsd))


def schema_errors(path: str | Path) -> list[str]:
    """Errors of the file at `path` against libNeuroML's NeuroML 2 XSD (strict
    XML Schema validation with lxml; ``validate_neuroml2`` checks the parsed
    objects, which skips elements libNeuroML does not know). Empty if valid."""
    import neuroml
    from lxml import etree

    folder = Path(neuroml.__file__).parent / "nml"
    version = getattr(neuroml, "current_neuroml_version", None)
    xsd = folder / f"NeuroML_{version}.xsd"
    if version is None or not xsd.is_file():  # older libNeuroML: its newest schema
        xsd = sorted(folder.glob("NeuroML_v2.*.xsd"))[-1]
    schema = _schema(str(xsd))
    ok = schema.validate(etree.parse(str(path)))
    return [] if ok else [str(e) for e in schema.error_log]


def validate_file(path: str | Path) -> None:
    """Check `path` with libNeuroML's validator and against the XSD; raise
    ``ValueError`` listing the schema errors."""
    import contextlib
    import io

    from neuroml.utils import validate_neuroml2

    with contextlib.redirect_stdout(io.StringIO()):
        validate_neuroml2(str(path))
    errors = schema_errors(path)
    if errors:
        raise ValueError(f"{path} is not valid NeuroML 2: " + "; ".join(errors[:5]))


def _pools(model: PointNeuron) -> dict:
    """The model's pools by state-variable name (each must be a CalciumPool of
    ``Ca_i``, which NeuroML's ``caConc`` means)."""
    out = {}
    for pool in model._pools:
        if pool.name != CALCIUM or pool.ion != "ca":
            raise NotImplementedError(
                f"{type(pool).__name__} ({pool.name}, ion {pool.ion}): NeuroML "
                f"channels read the Ca concentration only, as hh_jax's {CALCIUM}."
            )
        out[pool.name] = pool
    return out


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
    (channels, the ComponentTypes of their non-standard rates, the Ca pool,
    cell, a one-cell network at the model's temperature) and return its path.

    `area_um2`: membrane area (um^2; default 1000). `cell_id`: default the
    model's class name. `V_init`: the cell's initial potential (mV); the Ca
    pool starts at its steady state there (as gates do in NeuroML).
    `validate`: check the file with libNeuroML's validator and against the
    NeuroML 2 XSD. Raises ``NotImplementedError`` naming a channel or pool that
    cannot be written."""
    neuroml = _import_neuroml()
    if not isinstance(model, PointNeuron):
        raise TypeError(f"`model` must be an hh_jax.PointNeuron; got {type(model)}.")
    area = DEFAULT_AREA_UM2 if area_um2 is None else float(area_um2)
    if not (math.isfinite(area) and area > 0):
        raise ValueError(f"`area_um2` must be > 0 um^2; got {area_um2!r}.")
    if not math.isfinite(float(V_init)):
        raise ValueError(f"`V_init` must be finite (mV); got {V_init!r}.")
    pools = _pools(model)
    temperature = float(np.asarray(model.temperature))
    cell_id = cell_id or type(model).__name__
    doc = neuroml.NeuroMLDocument(id=cell_id)
    membrane = neuroml.MembraneProperties()
    types: list = []
    for ch in model.channels:
        declared = declared_channel(ch, temperature)
        missing = [r for r in declared.reads if r not in pools]
        if missing:
            raise NotImplementedError(
                f"{declared.name} reads {missing}, which no pool of the model holds."
            )
        doc.ion_channel_hhs.append(ion_channel(neuroml, declared, types))
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
    species = []
    if pools:
        start = steady_state(model, float(V_init)).gates
        for name, pool in pools.items():
            pool_id = f"{cell_id}_{type(pool).__name__}"
            doc.fixed_factor_concentration_models.append(
                pool_element(neuroml, pool, pool_id)
            )
            species.append(
                neuroml.Species(
                    id=pool.ion,
                    ion=pool.ion,
                    concentration_model=pool_id,
                    initial_concentration=written(float(start[name]), "mM"),
                    initial_ext_concentration=written(EXTERNAL_CA_MM, "mM"),
                )
            )
    doc.ComponentType.extend(types)
    side = math.sqrt(area / math.pi)
    soma = neuroml.Segment(
        id=0,
        name="soma",
        proximal=neuroml.Point3DWithDiam(x=0.0, y=0.0, z=0.0, diameter=side),
        distal=neuroml.Point3DWithDiam(x=side, y=0.0, z=0.0, diameter=side),
    )
    cell = neuroml.Cell(
        id=cell_id,
        notes=" ".join(
            [f"hh_jax {type(model).__name__}; area {area!r} um^2."]
            + [pool_note(pool) for pool in pools.values()]
        ),
        morphology=neuroml.Morphology(id=f"{cell_id}_morphology", segments=[soma]),
        biophysical_properties=neuroml.BiophysicalProperties(
            id=f"{cell_id}_biophysics",
            membrane_properties=membrane,
            intracellular_properties=neuroml.IntracellularProperties(
                species=species,
                resistivities=[neuroml.Resistivity(value="100ohm_cm")],
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
        validate_file(path)
    return path
