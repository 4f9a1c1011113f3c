"""Units of derivatives; the CSV and JSON writers are the shared ones of
:mod:`hh_jax._tables`."""

from .._tables import Column, TabularResult, format_table, write_csv, write_json

__all__ = [
    "Column",
    "TabularResult",
    "derivative_unit",
    "format_table",
    "write_csv",
    "write_json",
]


def derivative_unit(output_unit: str, parameter_unit: str) -> str:
    """Unit of ``d output / d parameter``, e.g. ``"ms/(mS/cm^2)"``."""
    if parameter_unit == "1":
        return output_unit
    den = f"({parameter_unit})" if "/" in parameter_unit else parameter_unit
    num = f"({output_unit})" if "/" in output_unit else output_unit
    return f"{num}/{den}"
