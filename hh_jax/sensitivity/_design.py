"""Which protocol makes the parameters identifiable: protocols ranked by their
Fisher information (a simple optimal-experiment-design helper)."""

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
from jaxtyping import ArrayLike, Float

from ..initial_state import DEFAULT_Y0, InitialState
from ..model import PointNeuron
from ..stimulus import AbstractStimulus
from ._fisher import FisherInformation, check_sigma, fisher_information
from ._problem import ATOL, MAX_STEPS, RTOL
from ._tables import Column, TabularResult, write_json

_CRITERIA = {
    "D": "log det of the log-parameter Fisher information (D-optimal)",
    "E": "smallest eigenvalue of the log-parameter Fisher information (E-optimal)",
}


@dataclasses.dataclass
class ProtocolComparison(TabularResult):
    """Fisher information of each protocol and their ranking by `criterion`
    (``"D"``: log det, ``"E"``: smallest eigenvalue; larger is better)."""

    table_rule = False

    criterion: str
    results: dict[str, FisherInformation]

    def score(self, name: str) -> float:
        r = self.results[name]
        return r.log_det if self.criterion == "D" else r.min_eigenvalue

    def ranking(self) -> list[str]:
        """Protocol names, most informative first."""
        return sorted(self.results, key=self.score, reverse=True)

    def rows(self) -> list[dict]:
        rows = []
        for rank, name in enumerate(self.ranking(), start=1):
            r = self.results[name]
            row = dict(
                rank=rank,
                protocol=name,
                log_det=r.log_det,
                min_eigenvalue=r.min_eigenvalue,
            )
            for p, rel in zip(r.wrt, r.relative_cramer_rao):
                row[f"rel_sd[{p}]"] = float(rel)
            rows.append(row)
        return rows

    def columns(self) -> list[Column]:
        params = [k for k in self.rows()[0] if k.startswith("rel_sd")]
        return [
            Column("rank", 5, align="<"),
            Column("protocol", 24, align="<", cell=lambda r: r["protocol"][:23]),
            Column("log_det", 10, ".3f", header="log det"),
            Column("min_eigenvalue", 11, ".4g", header="min eig"),
        ] + [Column(k, 16, ".3g") for k in params]

    def table_title(self) -> list[str]:
        return [f"ranked by {_CRITERIA[self.criterion]}"]

    def to_json(self, path) -> None:
        write_json(
            path,
            dict(
                criterion=_CRITERIA[self.criterion],
                ranking=self.ranking(),
                protocols={n: r.summary() for n, r in self.results.items()},
            ),
        )


def compare_protocols(
    model: PointNeuron,
    protocols: Mapping[str, AbstractStimulus | Sequence[AbstractStimulus]],
    ts: Float[ArrayLike, " T"] | Mapping[str, Float[ArrayLike, " T"]],
    *,
    wrt: Sequence[str] = ("g_Na", "g_K", "g_L"),
    sigma: float = 1.0,
    criterion: str = "D",
    y0: InitialState = DEFAULT_Y0["analysis"],
    rtol: float = RTOL,
    atol: float = ATOL,
    max_steps: int = MAX_STEPS,
) -> ProtocolComparison:
    """Rank stimulus protocols by how well they identify the parameters `wrt`.

    - `protocols`: ``{name: stimulus or list of stimuli (one per sweep)}``,
      uA/cm^2.
    - `ts`: save times (ms), shared or ``{name: ts}``.
    - `sigma`: voltage noise, mV; `criterion`: ``"D"`` (log det of the
      log-parameter Fisher information: the volume of the confidence ellipsoid)
      or ``"E"`` (its smallest eigenvalue: the worst-determined combination).

    Each protocol's :class:`FisherInformation` is kept in ``results``.
    """
    if criterion not in _CRITERIA:
        raise ValueError(f"`criterion` must be 'D' or 'E'; got {criterion!r}.")
    if not protocols:
        raise ValueError("no protocols to compare.")
    sigma = check_sigma(sigma)
    results = {}
    for name, stimuli in protocols.items():
        times = ts[name] if isinstance(ts, Mapping) else ts
        results[name] = fisher_information(
            model,
            stimuli,
            np.asarray(times),
            wrt=wrt,
            sigma=sigma,
            y0=y0,
            rtol=rtol,
            atol=atol,
            max_steps=max_steps,
        )
    return ProtocolComparison(criterion=criterion, results=results)
