"""Choosing the parameters an analysis varies: one selection for fit, sensitivity
and sweep.

A parameter is addressed by name or by path:

- a model parameter by its name, ``"g_Na"`` or ``"C_m"`` (every name of
  :meth:`hh_jax.PointNeuron.parameter_infos`; a name shared by several channels,
  such as ``E_K``, is set in all of them);
- a stimulus field as ``"stimulus.amplitude"``, inside a sum of stimuli
  ``"stimulus.terms.0.amplitude"``;
- either of them by a function, as for ``eqx.tree_at``, of an object with fields
  ``model`` and ``stimulus``: ``lambda p: p.stimulus.terms[0].amplitude`` or
  ``lambda p: p.model.g_Na``;
- a quantity the analysis adds (the membrane ``"area"`` of a whole-cell fit),
  declared by that analysis as an extra :class:`~hh_jax.ParameterInfo`.

:func:`select` resolves these against a model and stimulus into a
:class:`ParameterSelection`: the parameters in order, each with its declaration
(unit, admissible range, default bounds, log scale: the field's
:func:`hh_jax._parameter.parameter` metadata) and, where it has bounds, its
transform to an unconstrained number. Bounds come from the declaration unless
given; a transform is logarithmic where the declaration says ``log_scale`` (never
from the unit string). An unknown name raises :class:`UnknownParameterError`,
listing every valid name with its unit, whichever analysis asked.
"""

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ._parameter import (
    ParameterInfo,
    UnknownParameterError,
    parameter_infos,
    unknown_parameter,
)
from ._transforms import Logistic as Logistic
from ._transforms import LogLogistic as LogLogistic
from ._transforms import Transform, transform_for
from .stimulus import AbstractStimulus

STIMULUS_PREFIX = "stimulus."

Key = str | Callable[[Any], Any]  # a name or a where-function


# -- one addressed parameter -----------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Parameter:
    """One addressed parameter: its canonical `name`, its declaration `info`, what
    holds it (`owner`: ``"model"``, ``"stimulus"`` or ``"extra"``) and, for a
    stimulus field, the attribute/index `path` from the stimulus to it."""

    name: str
    info: ParameterInfo
    owner: str
    path: tuple[str | int, ...] = ()

    @property
    def unit(self) -> str:
        return self.info.unit

    def get(self, model, stimulus):
        """The current value (in `unit`)."""
        if self.owner == "model":
            return model.get(self.name)
        if self.owner == "stimulus":
            return _walk(stimulus, self.path)
        raise ValueError(
            f"`{self.name}` is not held by the model or the stimulus; the analysis "
            "that declared it supplies its value."
        )

    def check_range(self, low: float, high: float, what: str = "range") -> None:
        """``ValueError`` unless both ends lie in the admissible range."""
        verb = "reach" if what.endswith("s") else "reaches"
        for value in (low, high):
            if not bool(self.info.admissible(np.asarray(value, float))):
                raise ValueError(
                    f"the {what} of `{self.name}` ({self.info.doc}), {low:g} to "
                    f"{high:g} {self.unit}, {verb} {value:g}; it must be "
                    f"{self.info.requirement()}."
                )


def _walk(obj, path):
    for step in path:
        obj = obj[step] if isinstance(step, int) else getattr(obj, step)
    return obj


def _stimulus_fields(stimulus) -> dict[str, Parameter]:
    """Every declared scalar field of `stimulus` (and of the terms of a sum), by
    canonical name, the discontinuities included."""
    out = {}

    def visit(obj, path):
        if isinstance(obj, list | tuple):
            for k, item in enumerate(obj):
                visit(item, path + (k,))
            return
        if not isinstance(obj, eqx.Module):
            return
        infos = parameter_infos(obj)
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if f.metadata.get("static", False):
                continue
            info = infos.get(f.name)
            if info is None and eqx.is_array(value):  # a user's undeclared field
                info = ParameterInfo(
                    f.name, None, "?", "undeclared field", -math.inf, False, None
                )
            if info is None:
                visit(value, path + (f.name,))
            elif np.ndim(value) == 0:
                p = path + (f.name,)
                name = STIMULUS_PREFIX + ".".join(map(str, p))
                out[name] = Parameter(name, info, "stimulus", p)

    visit(stimulus, ())
    return out


def stimulus_parameter_names(stimulus: AbstractStimulus) -> list[str]:
    """Addressable (smooth, scalar) stimulus parameters, e.g.
    ``["stimulus.amplitude"]`` for a ``Step``, ``"stimulus.terms.0.amplitude"``
    for the first term of a sum."""
    return [
        n for n, p in _stimulus_fields(stimulus).items() if not p.info.discontinuity
    ]


@dataclasses.dataclass(frozen=True)
class ModelAndStimulus:
    """What a where-function receives: ``lambda p: p.stimulus.amplitude``."""

    model: Any
    stimulus: Any


def _marked(tree):
    """`tree` with every array leaf replaced by a fresh copy, so that the leaf a
    where-function returns identifies its field (as ``eqx.tree_at`` does with
    sentinels; copies keep the types that annotated accessors check)."""
    return jax.tree.map(
        lambda x: jnp.array(x, copy=True) if eqx.is_array(x) else x, tree
    )


class _Resolver:
    """Names (and where-functions) to :class:`Parameter` for one model, stimulus
    and set of extras."""

    def __init__(self, model, stimulus, extras: Mapping[str, ParameterInfo]):
        self.model, self.stimulus = model, stimulus
        self.extras = {
            n: Parameter(n, dataclasses.replace(i, name=n), "extra")
            for n, i in extras.items()
        }
        infos = {} if model is None else model.parameter_infos()
        self.model_params = {n: Parameter(n, i, "model") for n, i in infos.items()}
        self.stimulus_params = {} if stimulus is None else _stimulus_fields(stimulus)

    def valid(self) -> dict[str, str]:
        """Every addressable name with its unit, for error messages."""
        params = [*self.model_params.values()]
        params += [p for p in self.stimulus_params.values() if not p.info.discontinuity]
        params += [*self.extras.values()]
        return {p.name: p.unit for p in params}

    def resolve(self, key: Key) -> Parameter:
        if callable(key) and not isinstance(key, str):
            return self._resolve_where(key)
        if not isinstance(key, str):
            raise TypeError(
                f"a parameter is a name or a where-function; got {type(key).__name__}."
            )
        for table in (self.extras, self.model_params, self.stimulus_params):
            if key in table:
                return self._usable(table[key])
        raise self.unknown([key])

    def unknown(self, names: Sequence[str]) -> UnknownParameterError:
        reason = None
        if all(n.startswith(STIMULUS_PREFIX) for n in names):
            reason = (
                "this analysis has no stimulus"
                if self.stimulus is None
                else f"an unknown stimulus parameter of {type(self.stimulus).__name__}"
            )
        return unknown_parameter(names, self.valid(), reason)

    def _usable(self, p: Parameter) -> Parameter:
        if p.info.discontinuity:
            raise ValueError(
                f"`{p.name}` places a discontinuity of the stimulus; the solver steps "
                "onto it as a fixed point, so derivatives with respect to it are "
                "zero. Use a smooth stimulus (Ramp, Sine) for timing derivatives."
            )
        return p

    def _resolve_where(self, where) -> Parameter:
        model = None if self.model is None else _marked(self.model)
        stimulus = None if self.stimulus is None else _marked(self.stimulus)
        try:
            picked = where(ModelAndStimulus(model, stimulus))
        except Exception as err:
            raise ValueError(
                f"the where-function {where!r} failed on (model, stimulus): {err}"
            ) from err
        if eqx.is_array(picked):
            locations = getattr(model, "_locations", None)
            for name, p in self.model_params.items():
                getters = locations(name) if locations else [lambda m: m.get(name)]
                if any(get(model) is picked for get in getters):
                    return p
            for p in self.stimulus_params.values():
                if _walk(stimulus, p.path) is picked:
                    return self._usable(p)
        raise ValueError(
            f"the where-function {where!r} does not pick a declared scalar parameter "
            f"of the model or stimulus. Valid names: "
            + ", ".join(f"{n} ({u})" for n, u in self.valid().items())
            + "."
        )


# -- the selection ---------------------------------------------------------------


class ParameterSelection(eqx.Module):
    """The chosen parameters, in order, with their declarations and transforms.

    - `parameters`: one :class:`Parameter` each; `names`, `units` in the same order.
    - `transforms`: per parameter a :class:`Logistic` or :class:`LogLogistic` over
      its bounds, or None where it has no bounds (a stimulus field not given any).

    Physical values: ``read(model, stimulus)`` gives the vector ``theta`` (P,) and
    ``apply(model, stimulus, theta)`` writes it back (a sensitivity). Unconstrained
    values: ``values(u)`` maps ``u`` (P,) to ``{name: value}`` through the
    transforms and ``unconstrained(values)`` inverts it (a fit). Build it with
    :func:`select`.
    """

    parameters: tuple[Parameter, ...] = eqx.field(static=True)
    transforms: tuple[Transform | None, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    @property
    def units(self) -> tuple[str, ...]:
        return tuple(p.unit for p in self.parameters)

    def __len__(self) -> int:
        return len(self.parameters)

    def unit(self, name: str) -> str:
        return self.units[self.names.index(name)]

    # physical values on a model and stimulus
    def read(
        self, model, stimulus: AbstractStimulus | None = None
    ) -> Float[Array, " P"]:
        """The selected parameters' values on `model` and `stimulus` (P,)."""
        dtype = jnp.result_type(float)
        return jnp.stack(
            [jnp.asarray(p.get(model, stimulus), dtype) for p in self.parameters]
        )

    def apply(self, model, stimulus: AbstractStimulus | None, theta):
        """(model, stimulus) with the selected parameters set to `theta` (P,), in
        physical units (a leading batch axis on `theta` is not supported here;
        vmap instead)."""
        extra = [p.name for p in self.parameters if p.owner == "extra"]
        if extra:
            raise ValueError(
                f"{', '.join(extra)} belong to neither the model nor the stimulus; "
                "take them from `as_dict(theta)`."
            )
        model_values, paths, new = {}, [], []
        for i, p in enumerate(self.parameters):
            if p.owner == "model":
                model_values[p.name] = theta[i]
            else:
                paths.append(p.path)
                new.append(theta[i])
        if paths:
            stimulus = eqx.tree_at(
                lambda s: tuple(_walk(s, path) for path in paths), stimulus, tuple(new)
            )
        if model_values:
            model = model.replace(**model_values)
        return model, stimulus

    def as_dict(self, theta) -> dict:
        """``{name: theta[i]}``."""
        return {n: theta[i] for i, n in enumerate(self.names)}

    # bounds and unconstrained values
    def bounds(self) -> dict[str, tuple[float, float]]:
        """(lower, upper) of every parameter that has bounds, in its unit."""
        return {
            p.name: (tr.lower, tr.upper)
            for p, tr in zip(self.parameters, self.transforms)
            if tr is not None
        }

    def _bounded(self) -> tuple[Transform, ...]:
        missing = [p for p, tr in zip(self.parameters, self.transforms) if tr is None]
        if missing:
            raise ValueError(
                "no bounds for "
                + ", ".join(f"`{p.name}` ({p.unit})" for p in missing)
                + "; give them as bounds={name: (low, high)}."
            )
        return self.transforms

    def values(self, u: Float[Array, " P"]) -> dict[str, Float[Array, ""]]:
        """Unconstrained `u` (P,) to physical values by name."""
        return {
            n: tr.forward(u[i])
            for i, (n, tr) in enumerate(zip(self.names, self._bounded()))
        }

    def unconstrained(self, values: Mapping[str, float]) -> np.ndarray:
        """Physical `values` by name to the unconstrained vector (NumPy); each must
        lie strictly inside its bounds."""
        out = []
        for name, tr in zip(self.names, self._bounded()):
            x = float(values[name])
            if not tr.lower < x < tr.upper:
                raise ValueError(
                    f"the start value of `{name}` ({x:g} {self.unit(name)}) lies "
                    f"outside its bounds ({tr.lower:g}, {tr.upper:g}); widen the "
                    "bounds or change the start."
                )
            out.append(tr.inverse(x))
        return np.asarray(out, dtype=float)

    def quasi_random(self, count: int, seed: int) -> np.ndarray:
        """`count` unconstrained points from a scrambled Sobol sequence, spread
        (log-)uniformly inside the bounds (away from the edges by 1 %)."""
        from scipy.stats import qmc

        transforms = self._bounded()
        m = max(int(np.ceil(np.log2(max(count, 1)))), 0)
        q = qmc.Sobol(len(self), scramble=True, seed=seed).random_base2(m)
        q = 0.01 + 0.98 * q[:count]
        return np.stack(
            [tr.inverse(tr.uniform(q[:, i])) for i, tr in enumerate(transforms)],
            axis=-1,
        )


def _as_keys(names) -> tuple:
    if isinstance(names, str) or callable(names):
        return (names,)
    return tuple(names)


def select(
    model,
    stimulus: AbstractStimulus | None,
    names: Key | Sequence[Key],
    *,
    bounds: Mapping[Key, Any] | None = None,
    extras: Mapping[str, ParameterInfo] | None = None,
    require_bounds: bool = False,
) -> ParameterSelection:
    """Resolve `names` against `model` and `stimulus` (either may be None).

    - `names`: parameter names or where-functions (see the module docstring), in
      the order of the vector the analysis works on.
    - `bounds`: ``{name: (low, high)}`` in the parameter's unit, overriding the
      declared fit bounds; each pair finite, ``low < high``, both inside the
      parameter's admissible range.
    - `extras`: parameters the analysis adds, by name, with their declaration.
    - `require_bounds`: raise unless every parameter ends up with bounds.

    Raises :class:`UnknownParameterError` for an unknown name (listing the valid
    ones with units), ``ValueError`` for no names, a repeated name, a stimulus
    discontinuity (its derivative is zero), bounds for a parameter not selected,
    and bounds that are malformed or leave the admissible range.
    """
    keys = _as_keys(names)
    if not keys:
        raise ValueError(
            "no free parameters given: name at least one, e.g. g_Na g_K g_L."
        )
    resolver = _Resolver(model, stimulus, extras or {})
    unknown = [
        k
        for k in keys
        if isinstance(k, str)
        and k not in resolver.extras
        and k not in resolver.model_params
        and k not in resolver.stimulus_params
    ]
    if unknown:
        raise resolver.unknown(unknown)
    params = tuple(resolver.resolve(k) for k in keys)
    chosen = [p.name for p in params]
    if len(set(chosen)) != len(chosen):
        raise ValueError(f"parameter names repeat: {chosen}.")
    given = {}
    for key, pair in (bounds or {}).items():
        name = resolver.resolve(key).name
        if name not in chosen:
            raise ValueError(
                f"bounds given for parameters that are not selected: {name!r} "
                f"(selected: {', '.join(chosen)})."
            )
        given[name] = pair
    transforms = []
    for p in params:
        pair = given.get(p.name, p.info.fit_bounds)
        if pair is None:
            if require_bounds:
                raise ValueError(
                    f"`{p.name}` has no default bounds; give them ({p.unit})."
                )
            transforms.append(None)
            continue
        lower, upper = _check_pair(p, pair)
        transforms.append(transform_for(p.info, lower, upper))
    return ParameterSelection(params, tuple(transforms))


def check_interval(
    name: str, pair, *, what: str = "bounds", unit: str | None = None
) -> tuple[float, float]:
    """``(low, high)`` of the interval `pair` given for parameter `name`;
    ``ValueError`` naming it (and its `unit`) unless two finite numbers with
    low < high. `what` says what the interval is ("bounds", "range")."""
    in_unit = f" in {unit}" if unit else ""
    try:
        low, high = (float(x) for x in pair)
    except (TypeError, ValueError):
        raise ValueError(
            f"the {what} of `{name}` must be a pair (low, high){in_unit}; got {pair!r}."
        ) from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(
            f"the {what} of `{name}` must be finite with low < high{in_unit}; got "
            f"({low:g}, {high:g})."
        )
    return low, high


def _check_pair(p: Parameter, pair) -> tuple[float, float]:
    lower, upper = check_interval(p.name, pair, unit=p.unit)
    p.check_range(lower, upper, "bounds")
    return lower, upper
