"""The result of a global analysis: Sobol indices and DGSM, tables and files."""

import dataclasses

import numpy as np

from ._tables import Column, TabularResult


@dataclasses.dataclass
class GlobalSensitivity(TabularResult):
    """Sobol indices and DGSM of scalar outputs over parameter ranges.

    - `names`, `bounds` (P, 2), `parameter_units`; `outputs`, `output_units`.
    - `S1`, `ST`, and their `S1_conf`, `ST_conf` (half-width of the bootstrap
      confidence interval at `conf_level`): ``{output: (P,)}``.
    - `dgsm`: ``{output: (P,)}``, the mean squared derivative ``E[(dy/dx_i)^2]``
      (``(output unit / parameter unit)^2``); `dgsm_se` its standard error;
      `dgsm_bound`: ``dgsm (b - a)^2 / (pi^2 Var y)``, the DGSM upper bound on the
      total index for a uniform parameter on (a, b) (dimensionless).
    - `variance`: ``{output: Var y}`` over the valid samples.
    - `n`: base samples; `X` (n (P + 2), P) the samples; `Y` ``{output: (B,)}``.
    - `status` (B,): the function's status per sample (0 ok); `failed`
      ``{output: number of samples flagged}``; `groups_used` ``{output: groups}``.
    - `notes`: outputs left without indices (constant over the ranges, too
      few valid samples); `wall_time_s`: sampling, evaluation and analysis.
    """

    names: list[str]
    bounds: np.ndarray
    parameter_units: list[str]
    outputs: list[str]
    output_units: list[str]
    S1: dict[str, np.ndarray]
    S1_conf: dict[str, np.ndarray]
    ST: dict[str, np.ndarray]
    ST_conf: dict[str, np.ndarray]
    dgsm: dict[str, np.ndarray]
    dgsm_se: dict[str, np.ndarray]
    dgsm_bound: dict[str, np.ndarray]
    variance: dict[str, float]
    n: int
    X: np.ndarray
    Y: dict[str, np.ndarray]
    status: np.ndarray
    failed: dict[str, int]
    groups_used: dict[str, int]
    conf_level: float
    notes: list[str]
    wall_time_s: float

    def ranking(self, output: str, by: str = "ST") -> list[str]:
        """Parameter names, most influential first, by ``"ST"``, ``"S1"`` or
        ``"dgsm"`` (the normalised bound)."""
        table = {"ST": self.ST, "S1": self.S1, "dgsm": self.dgsm_bound}[by]
        score = np.nan_to_num(table[output], nan=-np.inf)
        return [self.names[i] for i in np.argsort(-score, kind="stable")]

    def rows(self) -> list[dict]:
        rows = []
        for out, unit in zip(self.outputs, self.output_units):
            for i, (p, pu) in enumerate(zip(self.names, self.parameter_units)):
                rows.append(
                    dict(
                        output=out,
                        output_unit=unit,
                        parameter=p,
                        parameter_unit=pu,
                        low=float(self.bounds[i, 0]),
                        high=float(self.bounds[i, 1]),
                        S1=float(self.S1[out][i]),
                        S1_conf=float(self.S1_conf[out][i]),
                        ST=float(self.ST[out][i]),
                        ST_conf=float(self.ST_conf[out][i]),
                        dgsm=float(self.dgsm[out][i]),
                        dgsm_se=float(self.dgsm_se[out][i]),
                        dgsm_bound=float(self.dgsm_bound[out][i]),
                        failed_samples=self.failed[out],
                    )
                )
        return rows

    def columns(self) -> list[Column]:
        return [
            Column("output", 14, align="<"),
            Column("parameter", 12, align="<"),
            Column("S1", 9, ".3g"),
            Column("S1_conf", 9, ".2g", header="+-"),
            Column("ST", 9, ".3g"),
            Column("ST_conf", 9, ".2g", header="+-"),
            Column("dgsm_bound", 12, ".3g", header="DGSM bound"),
        ]

    def table_footer(self) -> list[str]:
        lines = [
            f"{out}: ranking by ST {self.ranking(out)}, by DGSM "
            f"{self.ranking(out, 'dgsm')}; {self.failed[out]} of {len(self.X)} "
            f"samples flagged"
            for out in self.outputs
        ]
        return lines + list(self.notes)

    def to_dict(self) -> dict:
        return dict(
            parameters={
                p: dict(low=float(b[0]), high=float(b[1]), unit=u)
                for p, b, u in zip(self.names, self.bounds, self.parameter_units)
            },
            outputs=dict(zip(self.outputs, self.output_units)),
            n_base=self.n,
            n_samples=int(len(self.X)),
            failed_samples=self.failed,
            groups_used=self.groups_used,
            variance=self.variance,
            conf_level=self.conf_level,
            notes=self.notes,
            ranking={
                o: dict(ST=self.ranking(o), dgsm=self.ranking(o, "dgsm"))
                for o in self.outputs
            },
            wall_time_s=self.wall_time_s,
            rows=self.rows(),
        )
