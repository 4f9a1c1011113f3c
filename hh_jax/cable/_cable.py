"""The cable model: a discretised cell with a point-neuron membrane at every node.

A :class:`Cable` is the membrane model (any :class:`hh_jax.PointNeuron`; a field
may hold one value for the whole cell or one per node, so parameters can vary
along the cell and ``grad``/``vmap`` see each), the axial resistivity, and the
geometry of the nodes (membrane area and axial resistance factors, arrays too)
on a static :class:`Layout` (how the nodes connect).
"""

from collections.abc import Sequence

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float

from .._checks import concrete, describe_bad
from .._parameter import ParameterInfo, as_float_array, parameter, parameter_infos
from ..model import HodgkinHuxley, PointNeuron
from ._discretise import Layout, d_lambda_nseg, discretise
from ._morphology import Morphology

Position = tuple["int | str", float]  # (section index or name, x in [0, 1])


class Cable(eqx.Module):
    """A spatially extended neuron.

    **Fields:**

    - `neuron`: the membrane of every node, a :class:`hh_jax.PointNeuron`. Each of
      its parameters is a scalar (uniform) or an array of shape ``(N,)``, one value
      per node (see :meth:`with_parameters`).
    - `area`: ``(N,)`` membrane area of each node, um^2 (0 at junction nodes).
    - `axial`: ``(N,)`` ``integral dx / (pi r^2)`` (1/um) of the cable between each
      node and its parent; the axial resistance is ``1e4 R_a axial`` ohm.
    - `layout`: the static :class:`Layout` (topology, positions, solve schedule).
    - `R_a`: axial resistivity, ohm*cm (scalar or per node; the link between a
      node and its parent uses the node's value, which is its section's).

    Build one with :meth:`from_morphology` or :meth:`unbranched`.
    """

    neuron: PointNeuron
    area: Float[Array, " N"] = eqx.field(converter=as_float_array)
    axial: Float[Array, " N"] = eqx.field(converter=as_float_array)
    layout: Layout = eqx.field(static=True)
    R_a: Float[Array, "*N"] = parameter(
        35.4,
        unit="ohm*cm",
        doc="axial resistivity",
        strictly_positive=True,
        fit_bounds=(10.0, 500.0),
    )

    def __check_init__(self):
        if not isinstance(self.neuron, PointNeuron):
            raise TypeError(
                f"`neuron` must be an hh_jax.PointNeuron; got "
                f"{type(self.neuron).__name__}."
            )
        if not isinstance(self.layout, Layout):
            raise TypeError("`layout` must be a Layout (see hh_jax.cable.discretise).")
        n = self.layout.num_nodes
        for name in ("area", "axial"):
            shape = jnp.shape(getattr(self, name))
            if shape[-1:] != (n,):
                raise ValueError(
                    f"`{name}` must have one entry per node ({n}); got shape {shape}."
                )
        self.check_values()

    # -- construction -------------------------------------------------------------

    @classmethod
    def from_layout(
        cls,
        layout: Layout,
        neuron: PointNeuron | None = None,
        *,
        R_a: Float[ArrayLike, "*N"] = 35.4,
    ) -> "Cable":
        """A cable on an existing :class:`Layout` (from :func:`discretise`)."""
        return cls(
            neuron=HodgkinHuxley() if neuron is None else neuron,
            area=layout.area,
            axial=layout.axial,
            layout=layout,
            R_a=R_a,
        )

    @classmethod
    def from_morphology(
        cls,
        morphology: Morphology,
        neuron: PointNeuron | None = None,
        *,
        R_a: float = 35.4,
        nseg: "int | Sequence[int] | None" = None,
        frequency: float = 100.0,
        d_lambda: float = 0.1,
    ) -> "Cable":
        """Discretise `morphology` and put `neuron` (default: Hodgkin–Huxley at
        6.3 degC) on every node.

        `nseg`: segments per section (one int, or one per section); by default
        NEURON's d_lambda rule at `frequency` (Hz) and `d_lambda`, with `R_a`
        (ohm*cm) and the neuron's `C_m` (uF/cm^2).
        """
        neuron = HodgkinHuxley() if neuron is None else neuron
        if nseg is None:
            C_m = concrete(neuron.C_m)
            if C_m is None or np.ndim(C_m) != 0 or np.ndim(R_a) != 0:
                raise ValueError(
                    "the d_lambda rule needs one concrete C_m (uF/cm^2) and R_a "
                    "(ohm*cm); pass `nseg` explicitly."
                )
            nseg = d_lambda_nseg(
                morphology,
                R_a=float(R_a),
                C_m=float(C_m),
                frequency=frequency,
                d_lambda=d_lambda,
            )
        return cls.from_layout(discretise(morphology, nseg), neuron, R_a=R_a)

    @classmethod
    def unbranched(
        cls,
        length: float,
        diam: float,
        neuron: PointNeuron | None = None,
        *,
        R_a: float = 35.4,
        nseg: int | None = None,
        frequency: float = 100.0,
        d_lambda: float = 0.1,
    ) -> "Cable":
        """An unbranched cylinder of `length` and `diam` (um), sealed at both ends;
        one section, so positions are ``(0, x)`` with x from 0 to 1."""
        return cls.from_morphology(
            Morphology.unbranched(length, diam),
            neuron,
            R_a=R_a,
            nseg=nseg,
            frequency=frequency,
            d_lambda=d_lambda,
        )

    # -- parameters ---------------------------------------------------------------

    @property
    def num_nodes(self) -> int:
        return self.layout.num_nodes

    def parameter_infos(self) -> dict[str, ParameterInfo]:
        """The membrane's parameters and `R_a`, by name, with units."""
        return {**self.neuron.parameter_infos(), **parameter_infos(self)}

    def get(self, name: str) -> Array:
        """Value of a parameter (`R_a` or any of the neuron's), scalar or ``(N,)``."""
        return self.R_a if name == "R_a" else self.neuron.get(name)

    def with_parameters(self, **values: Float[ArrayLike, "*N"]) -> "Cable":
        """A copy with parameters set: ``cable.with_parameters(g_Na=120.0,
        R_a=100.0, g_K=per_node_array)``. Each value is a scalar or has one entry
        per node; see :meth:`mask` for values by region."""
        n = self.num_nodes
        for name, value in values.items():
            shape = jnp.shape(value)
            if shape not in ((), (n,)):
                raise ValueError(
                    f"`{name}` must be a scalar or have one value per node ({n}); "
                    f"got shape {shape}."
                )
        cable = self
        if "R_a" in values:
            cable = eqx.tree_at(
                lambda c: c.R_a, cable, as_float_array(values.pop("R_a"))
            )
            cable.check_values()
        if values:
            cable = eqx.tree_at(
                lambda c: c.neuron, cable, cable.neuron.replace(**values)
            )
        return cable

    def mask(
        self, *, kind: int | None = None, section: "int | str | None" = None
    ) -> Bool[Array, " N"]:
        """Boolean ``(N,)``: the nodes of SWC type `kind` (1 soma, 2 axon, 3 basal,
        4 apical) and/or of one `section`; use with ``jnp.where`` to give a region
        its own parameter values."""
        keep = np.ones(self.num_nodes, dtype=bool)
        if kind is not None:
            keep &= self.layout.kind == int(kind)
        if section is not None:
            keep &= self.layout.section == self.layout.morphology.index(section)
        return jnp.asarray(keep)

    def check_values(self) -> None:
        """Raise ``ValueError`` for concrete values outside their physical range
        (the neuron's parameters, `R_a` > 0, areas and axial factors >= 0)."""
        self.neuron.check_values()
        info = parameter_infos(self)["R_a"]
        value = concrete(self.R_a)
        if value is not None:
            ok = np.asarray(info.admissible(value))
            if not np.all(ok):
                raise ValueError(
                    f"parameter `R_a` ({info.doc}) must be {info.requirement()}; "
                    f"{describe_bad(value, ok)}."
                )
        for name, unit in (("area", "um^2"), ("axial", "1/um")):
            value = concrete(getattr(self, name))
            if value is not None:
                ok = np.isfinite(value) & (value >= 0)
                if not np.all(ok):
                    raise ValueError(
                        f"`{name}` must be finite and >= 0 ({unit}); "
                        f"{describe_bad(value, ok)}."
                    )

    def invalid_parameters(self) -> Array:
        """True where (under ``jit``/``vmap``) any parameter is out of range."""
        bad = jnp.any(self.neuron.invalid_parameters())
        bad = bad | jnp.any(~parameter_infos(self)["R_a"].admissible(self.R_a))
        return bad | jnp.any(~(self.area >= 0)) | jnp.any(~(self.axial >= 0))

    # -- positions ----------------------------------------------------------------

    def node(self, position: "Position | float") -> int:
        """The node index of a position ``(section, x)`` (section by index or
        name, x in [0, 1] along it), or of ``x`` alone on section 0."""
        if isinstance(position, tuple):
            section, x = position
        else:
            section, x = 0, position
        return self.layout.node(section, x)

    def nodes(self, positions: "Sequence[Position | float]") -> tuple[int, ...]:
        """Node indices of several positions (see :meth:`node`)."""
        return tuple(self.node(p) for p in positions)

    def conductances(self) -> Float[Array, " N"]:
        """Axial conductance (mS) between each node and its parent (0 at the root):
        ``1e3 / (1e4 R_a axial)``."""
        safe = jnp.where(self.axial > 0, self.axial, 1.0)
        return jnp.where(self.axial > 0, 0.1 / (self.R_a * safe), 0.0)
