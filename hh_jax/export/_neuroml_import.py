"""Import NeuroML 2 ion channels (and single-compartment cells) as hh_jax
channel classes that simulate, batch and differentiate like the library's.

Each ``ionChannelHH`` becomes a subclass of
:class:`~hh_jax.channels.AbstractHHChannel` built at import time, with its gates
as rate forms (``HHExpRate`` -> :class:`~hh_jax.channels.Exponential`,
``HHSigmoidRate`` -> :class:`~hh_jax.channels.Sigmoid`, ``HHExpLinearRate`` ->
:class:`~hh_jax.channels.ExpLinear`; the ``...Variable`` steady states likewise;
``fixedTimeCourse`` and LEMS ComponentTypes declared in the document ->
:class:`~hh_jax.channels.Expression`, see :mod:`._lems`) and the usual fittable
fields: the conductance ``g_<id>`` (mS/cm^2), the reversal (``E_Na``, ``E_K``,
``E_Ca`` shared by the channels of one ion, ``E_<id>`` for a non-specific
current), and ``shift_<gate>`` (mV), ``tau_scale_<gate>``. Gates may be
``gateHHrates``, ``gateHHtauInf`` or ``gateHHInstantaneous`` (typed elements or
``<gate type=...>``). A rate that reads NeuroML's ``caConc`` reads hh_jax's
``Ca_i`` (mM), the state of a Ca pool. Rates are in 1/ms, temperature
dependence from the gates' ``q10ExpTemp`` settings (one per channel).

A cell's ``species`` of Ca with a ``fixedFactorConcentrationModel`` becomes a
:class:`~hh_jax.export.FixedFactorCalciumPool`.

Not imported, with a ``NotImplementedError`` naming the channel:
ComponentTypes with conditional or state variables or requirements other than
``v`` and ``caConc``, ``gateHHratesTau``/``gateHHratesInf``/kinetic-scheme
gates, differing Q10 settings on the gates of one channel, other concentration
models. (NeuroML 2's core types define no tabulated rate.)
"""

import dataclasses
import types
from pathlib import Path

from jaxtyping import Array, Float

from .._parameter import parameter
from ..channels import (
    AbstractHHChannel,
    ExpLinear,
    Exponential,
    Expression,
    Gate,
    Sigmoid,
)
from ..channels._gates import shift_parameter, tau_scale_parameter
from ..model import PointNeuron
from ._lems import CALCIUM, expression_from_type
from ._neuroml_pool import pool_from_element
from ._neuroml_units import quantity

_RATE_TYPES = {
    "HHExpRate": (Exponential, "1/ms"),
    "HHSigmoidRate": (Sigmoid, "1/ms"),
    "HHExpLinearRate": (ExpLinear, "1/ms"),
    "HHExpVariable": (Exponential, "1"),
    "HHSigmoidVariable": (Sigmoid, "1"),
    "HHExpLinearVariable": (ExpLinear, "1"),
}
_ION = {"na": "na", "k": "k", "ca": "ca", "non_specific": None, None: None}
_REVERSAL = {"na": "E_Na", "k": "E_K", "ca": "E_Ca"}


def _rate(channel_id: str, gate_id: str, element, role: str, types: dict):
    """The hh_jax form of a NeuroML rate (`role` ``"rate"``), steady state
    (``"variable"``) or time course (``"time"``) element."""
    kind = getattr(element, "type", None)
    what = f"NeuroML channel {channel_id!r}, gate {gate_id!r}"
    if kind in types:
        return expression_from_type(element, types, role, what)
    if role == "time" and kind == "fixedTimeCourse":
        return Expression(repr(quantity(element.tau, "ms", f"{what} tau")))
    standard = kind in _RATE_TYPES and (_RATE_TYPES[kind][1] == "1") == (
        role == "variable"
    )
    if role == "time" or not standard:
        raise NotImplementedError(
            f"{what}: rate type {kind!r} is not one of the standard HH forms hh_jax "
            f"imports ({', '.join(sorted(_RATE_TYPES))}, fixedTimeCourse) nor a "
            "ComponentType declared in the document."
        )
    cls, unit = _RATE_TYPES[kind]
    what = f"{channel_id}.{gate_id}"
    return cls(
        quantity(element.rate, unit, f"{what} rate"),
        quantity(element.midpoint, "mV", f"{what} midpoint"),
        quantity(element.scale, "mV", f"{what} scale"),
    )


def _q10(channel_id: str, gate_id: str, settings):
    if settings is None:
        return None
    if settings.type == "q10ExpTemp":
        return (
            quantity(settings.q10_factor, "1", f"{channel_id}.{gate_id} q10Factor"),
            quantity(
                settings.experimental_temp, "degC", f"{channel_id}.{gate_id} temp"
            ),
        )
    raise NotImplementedError(
        f"NeuroML channel {channel_id!r}, gate {gate_id!r}: Q10 settings of type "
        f"{settings.type!r} are not imported (only q10ExpTemp)."
    )


@dataclasses.dataclass(frozen=True)
class ChannelSpec:
    """An imported channel before it is a class: id, ion, gates, the Q10
    (factor, experimental temperature in degC) or None, and the state variables
    its rates read (``("Ca_i",)`` or none)."""

    id: str
    ion: str | None
    gates: tuple[Gate, ...]
    q10: tuple[float, float] | None
    reads: tuple[str, ...] = ()


_GATE_KINDS = ("gateHHrates", "gateHHtauInf", "gateHHInstantaneous")


def _gate(cid: str, g, kind: str, types: dict) -> Gate:
    if kind == "gateHHrates":
        if g.forward_rate is None or g.reverse_rate is None:
            raise NotImplementedError(
                f"NeuroML channel {cid!r}, gate {g.id!r}: needs forwardRate and "
                "reverseRate."
            )
        return Gate(
            g.id,
            int(g.instances),
            alpha=_rate(cid, g.id, g.forward_rate, "rate", types),
            beta=_rate(cid, g.id, g.reverse_rate, "rate", types),
        )
    if g.steady_state is None:
        raise NotImplementedError(
            f"NeuroML channel {cid!r}, gate {g.id!r}: needs a steadyState."
        )
    inf = _rate(cid, g.id, g.steady_state, "variable", types)
    if kind == "gateHHInstantaneous":
        return Gate(g.id, int(g.instances), inf=inf)
    if g.time_course is None:
        raise NotImplementedError(
            f"NeuroML channel {cid!r}, gate {g.id!r}: needs a timeCourse."
        )
    tau = _rate(cid, g.id, g.time_course, "time", types)
    return Gate(g.id, int(g.instances), inf=inf, tau=tau)


def channel_spec(element, types: dict | None = None) -> ChannelSpec:
    """Read a libNeuroML ``IonChannelHH`` / ``IonChannel`` element; `types`
    are the document's ComponentTypes by name (for non-standard rates)."""
    types = {} if types is None else types
    cid = element.id
    unsupported = [
        ("gate_h_hrates_taus", "gateHHratesTau"),
        ("gate_h_hrates_infs", "gateHHratesInf"),
        ("gate_h_hrates_tau_infs", "gateHHratesTauInf"),
        ("gate_fractionals", "gateFractional"),
        ("gate_kses", "gateKS"),
    ]
    for attr, kind in unsupported:
        if getattr(element, attr, None):
            raise NotImplementedError(
                f"NeuroML channel {cid!r} has a {kind} gate, which hh_jax does not "
                f"import ({', '.join(_GATE_KINDS)} only)."
            )
    listed = [(g, "gateHHrates") for g in element.gate_hh_rates or []]
    listed += [(g, "gateHHtauInf") for g in element.gate_hh_tau_infs or []]
    listed += [
        (g, "gateHHInstantaneous") for g in element.gate_hh_instantaneouses or []
    ]
    for g in getattr(element, "gates", None) or []:
        kind = getattr(g, "type", None) or "gateHHrates"
        if kind not in _GATE_KINDS:
            raise NotImplementedError(
                f"NeuroML channel {cid!r}, gate {g.id!r}: type {g.type!r} is not "
                f"imported ({', '.join(_GATE_KINDS)} only)."
            )
        listed.append((g, kind))
    gates, q10s = [], []
    for g, kind in listed:
        gates.append(_gate(cid, g, kind, types))
        if kind != "gateHHInstantaneous":
            q10s.append(_q10(cid, g.id, g.q10_settings))
    if len(set(q10s)) > 1:
        raise NotImplementedError(
            f"NeuroML channel {cid!r}: its gates have different Q10 settings "
            f"{q10s}; hh_jax channels have one."
        )
    species = getattr(element, "species", None)
    reads = (CALCIUM,) if any(CALCIUM in g.names for g in gates) else ()
    return ChannelSpec(
        id=cid,
        ion=_ION.get(species, species),
        gates=tuple(gates),
        q10=q10s[0] if q10s else None,
        reads=reads,
    )


def reversal_name(spec: ChannelSpec) -> str:
    return _REVERSAL.get(spec.ion, f"E_{spec.id}")


def channel_class(spec: ChannelSpec, *, g: float = 0.0, E: float = 0.0) -> type:
    """An :class:`~hh_jax.channels.AbstractHHChannel` subclass for `spec`, with
    default conductance `g` (mS/cm^2) and reversal `E` (mV)."""
    conductance = f"g_{spec.id}"
    reversal = reversal_name(spec)
    annotations = {conductance: Float[Array, ""], reversal: Float[Array, ""]}
    body = {
        conductance: parameter(
            g,
            unit="mS/cm^2",
            doc=f"maximal conductance of NeuroML channel {spec.id}",
            minimum=0.0,
            fit_bounds=(0.0, max(10.0 * g, 1.0)),
            log_scale=True,
        ),
        reversal: parameter(
            E,
            unit="mV",
            doc=f"reversal potential of NeuroML channel {spec.id}",
            fit_bounds=(E - 30.0, E + 30.0),
        ),
    }
    for gate in spec.gates:
        if gate.reads_voltage:
            annotations[f"shift_{gate.name}"] = Float[Array, ""]
            body[f"shift_{gate.name}"] = shift_parameter(gate.name)
        if not gate.instantaneous:
            annotations[f"tau_scale_{gate.name}"] = Float[Array, ""]
            body[f"tau_scale_{gate.name}"] = tau_scale_parameter(gate.name)
    q10, tref = spec.q10 if spec.q10 is not None else (None, None)
    body.update(
        __annotations__=annotations,
        __module__=__name__,
        __doc__=f"Ion channel {spec.id!r} imported from NeuroML 2.",
        gates=tuple(g.name for g in spec.gates if not g.instantaneous),
        current_name=f"I_{spec.id}",
        ion=spec.ion,
        conductance=conductance,
        reversal=reversal,
        q10=q10,
        reference_temperature=tref,
        kinetics=spec.gates,
        reads=spec.reads,
        shared_parameters=frozenset({reversal})
        if spec.ion in _REVERSAL
        else frozenset(),
    )
    if q10 is None:  # no Q10 setting: rates independent of temperature
        body["temperature_factor"] = lambda self, temperature: 1.0
    name = "".join(c if c.isalnum() or c == "_" else "_" for c in spec.id)
    cls = types.new_class(
        name, (AbstractHHChannel,), exec_body=lambda ns: ns.update(body)
    )
    return cls


def _read(path):
    try:
        from neuroml.loaders import read_neuroml2_file
    except ImportError as err:  # pragma: no cover
        raise ImportError(
            "NeuroML import needs libNeuroML: pip install 'hh_jax[neuroml]'."
        ) from err
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no NeuroML file at {path}.")
    return read_neuroml2_file(str(path), include_includes=True)


def _channel_elements(doc) -> list:
    return list(doc.ion_channel_hhs or []) + list(doc.ion_channel or [])


def _component_types(doc) -> dict:
    return {ct.name: ct for ct in doc.ComponentType or []}


def channels_from_neuroml(path: str | Path) -> dict[str, type]:
    """The ion channels of NeuroML 2 file `path` as hh_jax channel classes, by
    channel id. Instantiate with values: ``Na(g_na=120.0, E_Na=50.0)``. A
    channel whose rates read ``caConc`` reads ``Ca_i``: use it in a model with a
    Ca pool."""
    doc = _read(path)
    types = _component_types(doc)
    return {
        el.id: channel_class(channel_spec(el, types)) for el in _channel_elements(doc)
    }


@dataclasses.dataclass(frozen=True)
class NeuroMLCell:
    """A single-compartment NeuroML cell read back: the `model`, its membrane
    area (um^2), initial potential (mV, None if not given) and the initial
    concentration of each pool (mM, by state variable, e.g. ``Ca_i``)."""

    model: PointNeuron
    area_um2: float
    V_init: float | None
    initial_concentrations: dict[str, float] = dataclasses.field(default_factory=dict)


def cell_from_neuroml(path: str | Path, cell_id: str | None = None) -> NeuroMLCell:
    """The single-compartment cell `cell_id` (default: the only one) of NeuroML 2
    file `path` as a :class:`~hh_jax.PointNeuron`: its channel densities (the
    channels must be in the file), specific capacitance, the temperature of a
    ``networkWithTemperature`` containing it (else 6.3 degC, NeuroML's default),
    and the area of its one segment."""
    import math

    doc = _read(path)
    cells = [c for c in doc.cells if cell_id in (None, c.id)]
    if len(cells) != 1:
        raise ValueError(
            f"{path}: expected one cell{'' if cell_id is None else f' {cell_id!r}'}; "
            f"found {[c.id for c in doc.cells]}."
        )
    cell = cells[0]
    segments = cell.morphology.segments
    if len(segments) != 1:
        raise NotImplementedError(
            f"cell {cell.id!r} has {len(segments)} segments; hh_jax imports "
            "single-compartment cells."
        )
    seg = segments[0]
    p, d = seg.proximal, seg.distal
    length = math.dist((p.x, p.y, p.z), (d.x, d.y, d.z))
    if length == 0:
        area = math.pi * float(d.diameter) ** 2  # a sphere
    else:
        r1, r2 = float(p.diameter) / 2, float(d.diameter) / 2
        area = math.pi * (r1 + r2) * math.sqrt(length**2 + (r1 - r2) ** 2)
    membrane = cell.biophysical_properties.membrane_properties
    types = _component_types(doc)
    specs = {el.id: channel_spec(el, types) for el in _channel_elements(doc)}
    channels = []
    for density in membrane.channel_densities:
        if density.ion_channel not in specs:
            raise ValueError(
                f"cell {cell.id!r}: channel {density.ion_channel!r} is not in {path}."
            )
        spec = specs[density.ion_channel]
        g = quantity(density.cond_density, "mS/cm^2", f"{density.id} condDensity")
        E = quantity(density.erev, "mV", f"{density.id} erev")
        cls = channel_class(spec, g=g, E=E)
        channels.append(cls())
    unsupported = [
        n
        for n in (
            "channel_density_nernsts",
            "channel_density_ghks",
            "channel_populations",
        )
        if getattr(membrane, n, None)
    ]
    if unsupported:
        raise NotImplementedError(
            f"cell {cell.id!r}: {unsupported} are not imported (fixed reversals only)."
        )
    C_m = quantity(
        membrane.specific_capacitances[0].value, "uF/cm^2", "specificCapacitance"
    )
    V_init = None
    if membrane.init_memb_potentials:
        V_init = quantity(
            membrane.init_memb_potentials[0].value, "mV", "initMembPotential"
        )
    temperature = 6.3
    for net in doc.networks:
        if net.temperature is not None and any(
            pop.component == cell.id for pop in net.populations
        ):
            temperature = quantity(net.temperature, "degC", "network temperature")
    pools, initial = _pools(doc, cell, path)
    model = PointNeuron(
        channels=tuple(channels),
        pools=pools or None,
        C_m=C_m,
        temperature=temperature,
    )
    return NeuroMLCell(
        model=model, area_um2=area, V_init=V_init, initial_concentrations=initial
    )


def _pools(doc, cell, path) -> tuple[tuple, dict[str, float]]:
    """The cell's Ca species as hh_jax pools, and their initial concentrations."""
    intracellular = cell.biophysical_properties.intracellular_properties
    species = list(getattr(intracellular, "species", None) or [])
    models = {m.id: m for m in doc.fixed_factor_concentration_models or []}
    others = {m.id for m in doc.decaying_pool_concentration_models or []}
    pools, initial = [], {}
    for sp in species:
        what = f"cell {cell.id!r}, species {sp.id!r}"
        if sp.concentration_model in others:
            raise NotImplementedError(
                f"{what}: decayingPoolConcentrationModel (a spherical shell) is "
                "not imported; fixedFactorConcentrationModel is."
            )
        if sp.concentration_model not in models:
            raise ValueError(
                f"{what}: concentration model {sp.concentration_model!r} is not a "
                f"fixedFactorConcentrationModel in {path}."
            )
        if (sp.ion or sp.id) != "ca":
            raise NotImplementedError(f"{what}: only Ca pools are imported.")
        pools.append(pool_from_element(models[sp.concentration_model]))
        initial[CALCIUM] = quantity(
            sp.initial_concentration, "mM", f"{what} initialConcentration"
        )
    if len(pools) > 1:
        raise NotImplementedError(f"cell {cell.id!r}: more than one Ca pool.")
    return tuple(pools), initial
