"""The one parameter selection (hh_jax.parameters) shared by fit, sensitivity and
sweep, and the shared result writer (hh_jax._tables). No simulations."""

import csv
import json
import math

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import pytest

import hh_jax as hh
from hh_jax import sensitivity as sens
from hh_jax._parameter import ParameterInfo
from hh_jax._tables import Column, format_table, write_csv, write_json
from hh_jax.fit import Logistic, LogLogistic, ParameterSpace, build_space
from hh_jax.parameters import (
    ParameterSelection,
    UnknownParameterError,
    select,
    stimulus_parameter_names,
)
from hh_jax.sweep import Grid, ParameterTable

MODEL = hh.HodgkinHuxley()
TS = jnp.arange(0.0, 5.0, 0.5)


def _info(unit: str, log_scale: bool) -> ParameterInfo:
    return ParameterInfo(
        "x", None, unit, "a test quantity", 0.0, False, (1.0, 100.0), log_scale
    )


def test_fit_sensitivity_sweep_and_model_raise_the_same_unknown_name_error():
    errors = []
    for ask in (
        lambda: build_space(MODEL, ["g_Na", "g_Q"]),
        lambda: sens.fisher_information(MODEL, 5.0, TS, wrt=("g_Na", "g_Q"), sigma=1.0),
        lambda: sens.rheobase_sensitivity(MODEL, ("g_Na", "g_Q")),
        lambda: Grid.parse(["g_Na=50:150:3", "g_Q=1:2:2"]).validate(MODEL),
        lambda: ParameterTable({"g_Q": np.ones(3)}).validate(MODEL),
        lambda: MODEL.replace(g_Na=100.0, g_Q=1.0),
        lambda: MODEL.get("g_Q"),
    ):
        with pytest.raises(UnknownParameterError) as info:
            ask()
        errors.append(str(info.value))
    assert len(set(errors)) == 1
    message = errors[0]
    assert message.startswith("unknown parameter 'g_Q'")
    # Every model parameter is listed with the unit its declaration gives.
    for name, declared in MODEL.parameter_infos().items():
        assert f"{name} ({declared.unit})" in message
    # Both a KeyError (old sweep contract) and a ValueError (old fit/sensitivity).
    assert issubclass(UnknownParameterError, KeyError)
    assert issubclass(UnknownParameterError, ValueError)


def test_the_old_class_names_are_the_shared_selection():
    assert ParameterSpace is ParameterSelection
    assert sens.ParameterSelection is ParameterSelection
    assert isinstance(build_space(MODEL, ["g_K"]), ParameterSelection)


def test_transforms_come_from_the_declaration_not_the_unit():
    space = build_space(MODEL, ["g_Na", "E_K", "C_m"])
    kinds = dict(zip(space.names, map(type, space.transforms)))
    # g_Na declares log_scale=True; C_m is strictly positive (the default);
    # E_K (mV) is neither.
    assert kinds == {"g_Na": LogLogistic, "E_K": Logistic, "C_m": LogLogistic}
    assert space.bounds()["g_Na"] == MODEL.parameter_infos()["g_Na"].fit_bounds
    # The same unit, opposite declarations: the transform follows the declaration.
    for unit in ("mS/cm^2", "mV"):
        for log_scale, kind in ((True, LogLogistic), (False, Logistic)):
            sel = select(MODEL, None, ["x"], extras={"x": _info(unit, log_scale)})
            assert type(sel.transforms[0]) is kind
    # A log-scale parameter whose bounds reach 0 cannot be log-uniform.
    sel = select(MODEL, None, ["g_Na"], bounds={"g_Na": (0.0, 200.0)})
    assert type(sel.transforms[0]) is Logistic


def test_log_scale_declarations():
    assert MODEL.parameter_infos()["g_L"].log_scale
    assert not MODEL.parameter_infos()["E_L"].log_scale
    assert hh.CorticalRegularSpiking().parameter_infos()["tau_scale_n"].log_scale


def test_user_bounds_override_and_are_checked_with_name_and_unit():
    sel = select(MODEL, None, ["g_K", "E_L"], bounds={"g_K": (10.0, 20.0)})
    assert sel.bounds()["g_K"] == (10.0, 20.0)
    assert sel.bounds()["E_L"] == MODEL.parameter_infos()["E_L"].fit_bounds
    with pytest.raises(ValueError, match=r"`g_K`.*-5 to 20 mS/cm\^2.*>= 0 mS/cm\^2"):
        select(MODEL, None, ["g_K"], bounds={"g_K": (-5.0, 20.0)})
    with pytest.raises(ValueError, match=r"`C_m`.*> 0 uF/cm\^2"):
        build_space(MODEL, ["C_m"], {"C_m": (0.0, 2.0)})
    for bad in ((3.0, 2.0), (1.0, math.nan), (1.0, math.inf)):
        with pytest.raises(ValueError, match=r"`g_K`.*low < high in mS/cm\^2"):
            select(MODEL, None, ["g_K"], bounds={"g_K": bad})
    with pytest.raises(ValueError, match="pair"):
        select(MODEL, None, ["g_K"], bounds={"g_K": 3.0})
    with pytest.raises(ValueError, match="not selected: 'g_Na'"):
        select(MODEL, None, ["g_K"], bounds={"g_Na": (10.0, 20.0)})
    # Sweep ranges: the same check, the same wording.
    with pytest.raises(ValueError, match=r"`g_K`.*-5 to 20 mS/cm\^2.*>= 0 mS/cm\^2"):
        Grid.parse(["g_K=-5:20:3"]).validate(MODEL)
    # A sweep may hold a parameter constant (a table column of one value).
    ParameterTable({"g_K": np.full(3, 36.0)}).validate(MODEL)


def test_a_stimulus_field_addressed_by_name_or_by_path():
    stim = hh.Step(2.0, 1.0, 5.0) + hh.Sine(1.0, 50.0)
    by_name = select(
        MODEL,
        stim,
        ["g_Na", "stimulus.terms.0.amplitude", "stimulus.terms.1.frequency"],
    )
    by_path = select(
        MODEL,
        stim,
        [
            lambda p: p.model.g_Na,
            lambda p: p.stimulus.terms[0].amplitude,
            lambda p: p.stimulus.terms[1].frequency,
        ],
    )
    assert by_name == by_path
    assert by_name.units == ("mS/cm^2", "uA/cm^2", "Hz")
    np.testing.assert_array_equal(by_name.read(MODEL, stim), [120.0, 2.0, 50.0])
    model, new = by_name.apply(MODEL, stim, jnp.asarray([100.0, 3.0, 40.0]))
    # The same change made by hand with eqx.tree_at.
    expected = eqx.tree_at(
        lambda s: (s.terms[0].amplitude, s.terms[1].frequency),
        stim,
        (jnp.asarray(3.0), jnp.asarray(40.0)),
    )
    assert eqx.tree_equal(new, expected)
    assert float(model.get("g_Na")) == 100.0
    assert float(model.get("g_K")) == float(MODEL.get("g_K"))
    # Smooth scalar fields of Step and Sine; their start/stop times are edges.
    assert stimulus_parameter_names(stim) == [
        "stimulus.terms.0.amplitude",
        "stimulus.terms.1.amplitude",
        "stimulus.terms.1.frequency",
        "stimulus.terms.1.phase",
        "stimulus.terms.1.offset",
    ]


def test_a_shared_name_picked_by_path_is_set_everywhere():
    model = hh.CorticalRegularSpiking()
    holders = [i for i, ch in enumerate(model.channels) if hasattr(ch, "E_K")]
    assert len(holders) >= 2
    sel = select(model, None, [lambda p: p.model.channels[holders[1]].E_K])
    assert sel.names == ("E_K",)
    new, _ = sel.apply(model, None, jnp.asarray([-85.0]))
    assert all(float(new.channels[i].E_K) == -85.0 for i in holders)


def test_discontinuities_and_non_parameters_are_refused():
    stim = hh.Step(2.0, 1.0, 5.0)
    for key in ("stimulus.start", lambda p: p.stimulus.start):
        with pytest.raises(ValueError, match="discontinuity"):
            select(MODEL, stim, [key])
    with pytest.raises(ValueError, match="does not pick a declared scalar"):
        select(MODEL, stim, [lambda p: 3.0])
    with pytest.raises(UnknownParameterError, match="unknown stimulus parameter"):
        select(MODEL, stim, ["stimulus.frequency"])
    with pytest.raises(UnknownParameterError, match="has no stimulus"):
        select(MODEL, None, ["stimulus.amplitude"])
    with pytest.raises(ValueError, match="repeat"):
        select(MODEL, stim, ["g_Na", lambda p: p.model.g_Na])
    with pytest.raises(ValueError, match="no free parameters"):
        select(MODEL, stim, [])
    sel = select(MODEL, stim, ["stimulus.amplitude"])
    with pytest.raises(ValueError, match=r"no bounds for `stimulus.amplitude`"):
        sel.values(jnp.zeros(1))


def test_a_selection_can_be_handed_to_the_fit():
    chosen = select(MODEL, None, ["g_Na", "g_K"], bounds={"g_Na": (50.0, 150.0)})
    space = build_space(MODEL, chosen)
    assert space == chosen
    narrower = build_space(MODEL, chosen, {"g_K": (20.0, 40.0)})
    assert narrower.bounds() == {"g_Na": (50.0, 150.0), "g_K": (20.0, 40.0)}


def test_whole_cell_area_is_an_extra_declaration():
    space = build_space(MODEL, ["g_Na", "area"], whole_cell=True)
    assert space.unit("area") == "um^2" and type(space.transforms[1]) is LogLogistic
    with pytest.raises(ValueError, match="whole-cell"):
        build_space(MODEL, ["area"])
    with pytest.raises(ValueError, match="product"):
        build_space(MODEL, ["C_m", "area"], whole_cell=True)
    with pytest.raises(ValueError, match="as_dict"):
        space.apply(MODEL, None, jnp.asarray([100.0, 2e4]))


def test_unconstrained_round_trip_and_quantiles():
    space = build_space(MODEL, ["g_Na", "E_L"])
    x = {"g_Na": 150.0, "E_L": -60.0}
    u = space.unconstrained(x)
    back = space.values(jnp.asarray(u))
    for n in x:
        assert float(back[n]) == pytest.approx(x[n], rel=1e-12)
    for tr in space.transforms:
        q = np.linspace(0.0, 1.0, 5)
        np.testing.assert_allclose(tr.quantile(tr.uniform(q)), q, atol=1e-12)
    # Log-uniform: the geometric mean of the bounds is the median.
    g = space.transforms[0]
    assert g.uniform(0.5) == pytest.approx(math.sqrt(g.lower * g.upper))


# -- the shared writer -----------------------------------------------------------


def test_format_table_follows_the_column_specification():
    rows = [
        dict(name="g_Na", value=1.23456, unit="mS/cm^2"),
        dict(name="C_m", value=1.0, unit="uF/cm^2"),
    ]
    columns = [
        Column("name", 6, align="<"),
        Column("value", 8, ".3g", gap=2),
        Column("unit", 0, align="<", cell=lambda r: f"[{r['unit']}]"),
    ]
    text = format_table(rows, columns, title=["T"], footer=["F"])
    # By the format mini-language: "name" padded to 6, "value" right in 8 + 2.
    assert text.split("\n") == [
        "T",
        "name     value  unit",
        "--------------------",
        "g_Na      1.23  [mS/cm^2]",
        "C_m          1  [uF/cm^2]",
        "F",
    ]


def test_csv_and_json_writers(tmp_path):
    rows = [dict(a=1.5, b=None, c="x"), dict(a=math.nan, b=2, c="y")]
    write_csv(tmp_path / "sub" / "r.csv", rows)
    with (tmp_path / "sub" / "r.csv").open() as f:
        back = list(csv.DictReader(f))
    assert back == [dict(a="1.5", b="", c="x"), dict(a="nan", b="2", c="y")]
    data = dict(x=np.array([1.0, np.inf]), y=np.float32(2.5), z=jnp.asarray([1, 2]))
    data["w"] = {1: math.nan, "v": (True, None)}
    write_json(tmp_path / "r.json", data)
    assert json.loads((tmp_path / "r.json").read_text()) == dict(
        x=[1.0, None], y=2.5, z=[1, 2], w={"1": None, "v": [True, None]}
    )


def test_result_classes_share_the_writer(tmp_path):
    conf = sens.ConfidenceIntervals(
        names=["g_Na"],
        units=["mS/cm^2"],
        values=np.array([120.0]),
        stderr=np.array([1.5]),
        lower=np.array([117.0]),
        upper=np.array([123.0]),
        level=0.95,
        covariance=np.eye(1),
        correlation=np.eye(1),
        residual_sd=math.nan,
        num_residuals=10,
        method="test",
    )
    assert "g_Na" in conf.table() and "[117, 123]" in conf.table()
    conf.to_json(tmp_path / "c.json")
    saved = json.loads((tmp_path / "c.json").read_text())
    assert saved["residual_sd"] is None  # NaN is not JSON
    assert saved["values"] == [120.0] and saved["covariance"] == [[1.0]]
    conf.to_csv(tmp_path / "c.csv")
    with (tmp_path / "c.csv").open() as f:
        (row,) = csv.DictReader(f)
    assert row == {k: str(v) for k, v in conf.rows()[0].items()}
