"""Parameters by name, across the model and the stimulus.

Model parameters are addressed by their model name (``"g_Na"``, ``"C_m"``; see
:meth:`hh_jax.PointNeuron.parameter_infos`). Stimulus parameters are addressed as
``"stimulus.<field>"`` (``"stimulus.amplitude"``); inside a sum of stimuli, as
``"stimulus.terms.<k>.<field>"``. A :class:`ParameterSelection` turns a vector
``theta`` (P,) into the model and stimulus to simulate, so every analysis works on
one flat vector in physical units.
"""

from collections.abc import Sequence

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..model import PointNeuron
from ..stimulus import AbstractStimulus, StimulusSum

STIMULUS_PREFIX = "stimulus."

# Units of stimulus fields by field name.
_STIMULUS_UNITS = {
    "amplitude": "uA/cm^2",
    "initial": "uA/cm^2",
    "offset": "uA/cm^2",
    "values": "uA/cm^2",
    "frequency": "Hz",
    "phase": "rad",
}
# Fields that place a discontinuity: the solver steps onto them as fixed points of
# the time grid, so their derivative through `simulate` is zero, not the true one.
_JUMP_FIELDS = ("start", "stop", "width", "interval", "times", "t0", "dt")


def _stimulus_path(stimulus: AbstractStimulus, name: str):
    """(getter, unit) of the scalar stimulus field called `name`."""
    parts = name[len(STIMULUS_PREFIX) :].split(".")
    getters, obj = [], stimulus
    while isinstance(obj, StimulusSum):
        if parts and parts[0] == "terms":
            parts = parts[1:]
        n = len(obj.terms)
        if not parts or not parts[0].isdigit() or int(parts[0]) >= n:
            raise ValueError(
                f"`{name}`: address a term of a sum of stimuli as "
                f"stimulus.terms.<k>.<field> with k < {n}."
            )
        k = int(parts.pop(0))
        getters.append(lambda s, k=k: s.terms[k])
        obj = obj.terms[k]
    fields = _array_fields(obj)
    if len(parts) != 1 or parts[0] not in fields:
        raise ValueError(
            f"unknown stimulus parameter `{name}`; {type(obj).__name__} has "
            f"{', '.join(STIMULUS_PREFIX + f for f in fields) or 'no fields'}."
        )
    field = parts[0]
    if field in _JUMP_FIELDS:
        raise ValueError(
            f"`{name}` places a discontinuity of the stimulus; the solver steps "
            "onto it as a fixed point, so derivatives with respect to it are "
            "zero. Use a smooth stimulus (Ramp, Sine) for timing derivatives."
        )
    if np.ndim(getattr(obj, field)) != 0:
        raise ValueError(
            f"`{name}` is not a scalar (shape {np.shape(getattr(obj, field))})."
        )
    getters.append(lambda s: getattr(s, field))
    return _compose(getters), _STIMULUS_UNITS.get(field, "?")


def _compose(getters):
    def get(stimulus):
        for g in getters:
            stimulus = g(stimulus)
        return stimulus

    return get


def _array_fields(obj) -> list[str]:
    return [
        f
        for f in getattr(type(obj), "__dataclass_fields__", {})
        if eqx.is_array(getattr(obj, f))
    ]


def stimulus_parameter_names(stimulus: AbstractStimulus) -> list[str]:
    """Addressable (smooth, scalar) stimulus parameters, e.g.
    ``["stimulus.amplitude"]`` for a ``Step``."""
    if isinstance(stimulus, StimulusSum):
        return [
            f"{STIMULUS_PREFIX}terms.{k}.{n[len(STIMULUS_PREFIX) :]}"
            for k, term in enumerate(stimulus.terms)
            for n in stimulus_parameter_names(term)
        ]
    return [
        STIMULUS_PREFIX + f
        for f in _array_fields(stimulus)
        if f not in _JUMP_FIELDS and np.ndim(getattr(stimulus, f)) == 0
    ]


class ParameterSelection(eqx.Module):
    """The chosen parameters (model and stimulus), in order, with their units.

    ``values(model, stimulus)`` reads them as a vector ``theta`` (P,) in physical
    units; ``apply(model, stimulus, theta)`` writes them back. Build it with
    :func:`select`.
    """

    names: tuple[str, ...] = eqx.field(static=True)
    units: tuple[str, ...] = eqx.field(static=True)

    def __len__(self) -> int:
        return len(self.names)

    def values(
        self, model: PointNeuron, stimulus: AbstractStimulus | None
    ) -> Float[Array, " P"]:
        out = []
        for name in self.names:
            if name.startswith(STIMULUS_PREFIX):
                out.append(_stimulus_path(stimulus, name)[0](stimulus))
            else:
                out.append(model.get(name))
        dtype = jnp.result_type(float)
        return jnp.stack([jnp.asarray(x, dtype) for x in out])

    def apply(
        self,
        model: PointNeuron,
        stimulus: AbstractStimulus | None,
        theta: Float[Array, " P"],
    ) -> tuple[PointNeuron, AbstractStimulus | None]:
        model_values = {}
        for i, name in enumerate(self.names):
            if name.startswith(STIMULUS_PREFIX):
                get = _stimulus_path(stimulus, name)[0]
                stimulus = eqx.tree_at(get, stimulus, theta[i])
            else:
                model_values[name] = theta[i]
        return model.replace(**model_values), stimulus


def select(
    model: PointNeuron,
    stimulus: AbstractStimulus | None,
    names: Sequence[str],
) -> ParameterSelection:
    """Check `names` against the model (and stimulus) and return the selection.

    Raises ``ValueError`` naming the valid choices for an unknown name, a repeated
    name, or a stimulus field that cannot be differentiated (a discontinuity time).
    """
    if isinstance(names, str):
        names = (names,)
    names = tuple(names)
    if not names:
        raise ValueError("no parameters given: name at least one, e.g. g_Na g_K g_L.")
    if len(set(names)) != len(names):
        raise ValueError(f"parameter names repeat: {list(names)}.")
    infos = model.parameter_infos()
    units = []
    for name in names:
        if name.startswith(STIMULUS_PREFIX):
            if stimulus is None:
                raise ValueError(f"`{name}`: this analysis has no stimulus.")
            units.append(_stimulus_path(stimulus, name)[1])
        elif name in infos:
            units.append(infos[name].unit)
        else:
            stim = [] if stimulus is None else stimulus_parameter_names(stimulus)
            raise ValueError(
                f"unknown parameter {name!r}; the model has {', '.join(infos)}"
                + (f" and the stimulus has {', '.join(stim)}" if stim else "")
                + "."
            )
    return ParameterSelection(names, tuple(units))
