"""Settings objects: the many knobs of a long-running entry point as one value.

``fit``, ``run_sweep`` and ``global_sensitivity`` each take a ``settings=``
object (:class:`hh_jax.fit.FitSettings`, :class:`hh_jax.sweep.SweepSettings`,
:class:`hh_jax.sensitivity.GlobalSettings`): a frozen dataclass whose fields are
the entry point's options, with their units and defaults in its docstring. The
signature itself keeps only what names the problem (the data, the model, what
varies, the initial state).

Every field can still be given as a keyword of the entry point, the call form
these functions had before (``fit(data, model, free, steps=20)``): keywords
replace the fields of ``settings`` (``dataclasses.replace``), and a keyword that
is no field is a ``TypeError`` listing the valid ones. One settings object can
so be kept, compared and reused across calls::

    settings = hh_jax.fit.FitSettings(starts=4, steps=30)
    result = hh_jax.fit.fit(data, model, ["g_Na", "g_K"], settings=settings)
"""

import dataclasses
import typing
from collections.abc import Mapping


def resolve_settings(cls: type, settings, options: Mapping, *, entry: str):
    """`settings` (an instance of the dataclass `cls`, or None for its defaults)
    with the keyword `options` of entry point `entry` replacing its fields."""
    if settings is None:
        settings = cls()
    elif not isinstance(settings, cls):
        raise TypeError(
            f"`settings` of {entry}() must be a {cls.__name__}; got "
            f"{type(settings).__name__}."
        )
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(options) - set(names))
    if unknown:
        raise TypeError(
            f"{entry}() got unexpected keyword argument(s) {unknown}; its options "
            f"(fields of {cls.__name__}) are: {', '.join(names)}."
        )
    return dataclasses.replace(settings, **options) if options else settings


def settings_class(function) -> type | None:
    """The settings dataclass an entry point takes as ``settings=``, or None."""
    hint = typing.get_type_hints(function).get("settings")
    for candidate in typing.get_args(hint) or (hint,):
        if dataclasses.is_dataclass(candidate):
            return candidate
    return None


def defaults(function) -> dict[str, object]:
    """Every option of `function` with its default: the signature's keywords and,
    for an entry point with a settings object, that object's fields."""
    import inspect

    found = {
        name: p.default
        for name, p in inspect.signature(function).parameters.items()
        if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    }
    cls = settings_class(function)
    if cls is not None:
        for field in dataclasses.fields(cls):
            found.setdefault(field.name, getattr(cls(), field.name))
    return found
