"""The README's vocabulary table is true for every entry point: names and
defaults read from the signatures and, for entry points with a settings object,
its fields (no simulation); and every public function that takes `y0`, `rtol`,
`atol` or `max_steps` is listed for each of them."""

import ast
import importlib
import inspect
import re
import warnings
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest

import hh_jax as hh
from hh_jax import initial_state, tolerances
from hh_jax.settings import defaults

README = Path(__file__).resolve().parents[1] / "README.md"
CHECKED = ("y0", "rtol", "atol", "max_steps")
MODULES = (
    "hh_jax",
    "hh_jax.fit",
    "hh_jax.sensitivity",
    "hh_jax.sweep",
    "hh_jax.excitability",
    "hh_jax.cable",
)
# Old keyword names, accepted with a DeprecationWarning and left out of the table.
DEPRECATED = {"fit.fit": "initial", "sweep.run_sweep": "start"}


def _cells(line: str) -> list[str]:
    return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def _table() -> list[dict]:
    text = README.read_text()
    section = text[text.index("## Vocabulary") :]
    section = section[: section.index("\n## ", 1)]
    lines = [ln for ln in section.splitlines() if ln.startswith("|")]
    header = [h.lower() for h in _cells(lines[0])]
    return [dict(zip(header, _cells(ln))) for ln in lines[2:]]


def _names(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def _entry_point(name: str):
    module, _, function = ("hh_jax." + name).rpartition(".")
    return getattr(importlib.import_module(module), function)


def _public_functions():
    """(README name, function) of every public function of the API modules."""
    found = {}
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        prefix = module_name.removeprefix("hh_jax").lstrip(".")
        for name in dir(module):
            f = getattr(module, name)
            if name.startswith("_") or not inspect.isfunction(f):
                continue
            if getattr(f, "__module__", "").split(".")[0] != "hh_jax":
                continue
            key = f"{prefix}.{name}" if prefix else name
            found.setdefault(f, key)  # the shortest path (hh_jax.X before modules)
    return {key: f for f, key in found.items()}


def test_the_table_states_the_signature_defaults():
    rows = _table()
    assert rows, "no vocabulary table in README.md"
    checked = 0
    for row in rows:
        arguments = _names(row["argument"])
        expected_defaults = _names(row["default"]) or [row["default"]]
        if len(expected_defaults) == 1:
            expected_defaults = expected_defaults * len(arguments)
        assert len(expected_defaults) == len(arguments), row
        for entry in _names(row["entry points"]):
            params = defaults(_entry_point(entry))
            for argument, default in zip(arguments, expected_defaults):
                assert argument in params, f"{entry} has no `{argument}`"
                actual = params[argument]
                expected = ast.literal_eval(default)
                assert actual == expected and type(actual) is type(expected), (
                    f"README says {entry}({argument}={default}); the signature "
                    f"has {actual!r}"
                )
                checked += 1
    assert checked > 40


def test_every_entry_point_is_in_the_table():
    listed = {
        (entry, argument)
        for row in _table()
        for entry in _names(row["entry points"])
        for argument in _names(row["argument"])
    }
    missing = []
    for key, f in _public_functions().items():
        for argument in defaults(f):
            if argument in CHECKED and (key, argument) not in listed:
                missing.append(f"{key}({argument})")
        # An old name is accepted (with a warning) but no longer advertised.
        old = DEPRECATED.get(key)
        if old is not None:
            assert old not in defaults(f), (key, old)
    assert not missing, f"not in README's vocabulary table: {missing}"
    # No entry point still calls the initial state `initial` (`start` is also a
    # stimulus onset elsewhere, e.g. excitability.step_responses).
    for key, f in _public_functions().items():
        if key not in DEPRECATED:
            assert "initial" not in defaults(f), key


def test_defaults_come_from_one_place():
    """The numbers in the signatures are those of hh_jax.tolerances and
    hh_jax.initial_state (so a change there changes every entry point)."""
    from hh_jax import fit, sensitivity
    from hh_jax.fit._replay import max_steps_for

    for f, tol in (
        (hh.simulate, tolerances.DEFAULT),
        (fit.fit, tolerances.FIT),
        (sensitivity.local_sensitivity, tolerances.LOCAL_SENSITIVITY),
        (sensitivity.global_sensitivity, tolerances.GLOBAL_SENSITIVITY),
        (sensitivity.rheobase_sensitivity, tolerances.THRESHOLD_SENSITIVITY),
        (sensitivity.onset_sensitivity, tolerances.ONSET_SENSITIVITY),
    ):
        assert (defaults(f)["rtol"], defaults(f)["atol"]) == (tol.rtol, tol.atol)
    assert defaults(hh.simulate)["max_steps"] == tolerances.DEFAULT.max_steps
    assert max_steps_for(0.0) == tolerances.FIT.max_steps
    assert defaults(hh.simulate)["y0"] == initial_state.DEFAULT_Y0["simulate"]
    assert defaults(fit.fit)["y0"] == initial_state.DEFAULT_Y0["analysis"]
    for t in tolerances.BY_ENTRY_POINT.values():
        assert t.reason and t.rtol > 0 and t.atol > 0 and t.max_steps > 0


def test_named_initial_states_resolve_to_their_definitions():
    model = hh.HodgkinHuxley(g_K=np.array([30.0, 36.0]))
    steady = initial_state.resolve_y0(model, "steady")
    np.testing.assert_array_equal(steady.V, -65.0)
    expected = hh.steady_state(hh.HodgkinHuxley(), -65.0)
    for g in ("m", "h", "n"):
        np.testing.assert_array_equal(steady.gates[g], expected.gates[g])
    rest = initial_state.resolve_y0(model, "rest")
    for k, g_K in enumerate((30.0, 36.0)):
        one = hh.resting_state(hh.HodgkinHuxley(g_K=g_K))
        np.testing.assert_allclose(rest.V[k], one.V, atol=1e-9)
    array = initial_state.resolve_y0(hh.HodgkinHuxley(), [-60.0, 0.1, 0.5, 0.3])
    assert float(array.V) == -60.0 and float(array.gates["h"]) == 0.5
    with pytest.raises(ValueError, match=r"`y0` must be one of \('steady', 'rest'\)"):
        initial_state.resolve_y0(model, "resting")
    with pytest.raises(ValueError, match=r"4 entries \[V \(mV\), m, h, n\]"):
        initial_state.resolve_y0(hh.HodgkinHuxley(), [-60.0, 0.1])


def test_old_keyword_names_warn_and_still_work():
    sentinel = object()
    with pytest.warns(DeprecationWarning, match="`start` is deprecated"):
        assert initial_state.renamed_y0("start", "rest", "steady", "steady") == "rest"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert initial_state.renamed_y0("start", None, "rest", "steady") == "rest"
    with pytest.warns(DeprecationWarning), pytest.raises(TypeError, match="not both"):
        initial_state.renamed_y0("initial", "rest", "steady", sentinel)


def test_command_line_names():
    """--save-dt is the save grid, --step-dt a fixed step; the old --dt (and
    sweep's --start) still parse to the same meaning."""
    from hh_jax.cli import build_parser

    parse = build_parser().parse_args
    args = parse(["simulate", "--save-dt", "0.1", "--y0", "rest", "--rtol", "1e-7"])
    assert (args.save_dt, args.y0, args.rtol) == (0.1, ["rest"], 1e-7)
    assert (args.atol, args.max_steps) == (1e-6, 100_000)
    assert parse(["simulate", "--dt", "0.2"]).save_dt == 0.2
    assert parse(["simulate"]).save_dt == 0.025 and parse(["simulate"]).y0 == ["steady"]
    sens = parse(["sensitivity", "--dt", "0.1"])
    assert (sens.save_dt, sens.y0, sens.rtol) == (0.1, ["rest"], 1e-8)
    sweep = ["sweep", "g_Na=1:2:2", "--duration", "5", "--out", "x"]
    assert parse(sweep).step_dt == 0.05 and parse(sweep).y0 == "steady"
    assert parse(sweep + ["--dt", "0.02", "--start", "rest"]).step_dt == 0.02
    assert parse(sweep + ["--start", "rest"]).y0 == "rest"
    assert parse(sweep + ["--step-dt", "0.01", "--y0", "rest"]).step_dt == 0.01
    assert parse(["cable", "--dt", "0.01"]).step_dt == 0.01
    assert parse(["cable"]).step_dt == 0.005

    from hh_jax.cli._common import y0_from_args

    np.testing.assert_array_equal(y0_from_args(["-60", "0.1", "0.5", "0.3"])[0], -60)
    with pytest.raises(ValueError, match="--y0 must be 'steady', 'rest' or numbers"):
        y0_from_args(["resting"])


def test_fit_and_sweep_initial_states():
    """fit's "steady" / shared state and run_sweep's y0 forms, without solving."""
    from hh_jax.fit import Objective, TraceMSE, build_space, fit_data
    from hh_jax.io import Recording, Sweep
    from hh_jax.sweep._run import _sweep_y0

    model = hh.HodgkinHuxley()
    t = np.arange(0.0, 5.0, 0.1)
    sweeps = [
        Sweep(
            t=t,
            V=np.full_like(t, -64.0),
            stimulus_times=np.array([0.0, 2.0]),
            stimulus_values=np.array([a, 0.0]),
            current_unit="uA/cm^2",
            name=f"s{k}",
            metadata={},
        )
        for k, a in enumerate((0.0, 1.0))
    ]
    data = fit_data(Recording(sweeps))
    common = dict(
        template=model,
        space=build_space(model, ["g_K"]),
        data=data,
        losses=(TraceMSE(),),
    )
    stimulus = data.stimulus(None)
    steady = Objective(initial="steady", **common)._initial_states(model, stimulus)
    np.testing.assert_array_equal(steady.V, [-65.0, -65.0])
    expected = hh.steady_state(model, -65.0)
    np.testing.assert_allclose(steady.gates["n"], float(expected.gates["n"]))
    state = hh.State.from_array(jnp.asarray([-60.0, 0.1, 0.5, 0.3]), model.gate_names)
    shared = Objective(initial="state", y0_state=state, **common)._initial_states(
        model, stimulus
    )
    np.testing.assert_array_equal(shared.V, [-60.0, -60.0])
    np.testing.assert_array_equal(shared.gates["h"], [0.5, 0.5])

    assert _sweep_y0(model, None) == "steady" and _sweep_y0(model, "rest") == "rest"
    assert _sweep_y0(model, state) == (-60.0, 0.1, 0.5, 0.3)
    with pytest.raises(ValueError, match="one state"):
        _sweep_y0(model, np.zeros((3, 4)))
    with pytest.raises(ValueError, match="gate `h`"):
        _sweep_y0(model, [-60.0, 0.1, 1.5, 0.3])


# A low-level helper of the package's own batch loops (each keyword is needed by
# one of its three callers), not an entry point of an analysis.
MANY_KEYWORDS = {"batching.map_chunks"}


def test_entry_points_with_many_options_take_a_settings_object():
    """No public function takes more than 10 parameters without a settings object
    (hh_jax.settings); the README lists the settings objects."""
    import hh_jax.batching  # noqa: F401  (not among MODULES: no vocabulary there)
    from hh_jax.settings import settings_class

    functions = dict(_public_functions())
    functions["batching.map_chunks"] = hh.batching.map_chunks
    crowded = [
        f"{key} ({len(inspect.signature(f).parameters)})"
        for key, f in functions.items()
        if len(inspect.signature(f).parameters) > 10
        and settings_class(f) is None
        and key not in MANY_KEYWORDS
    ]
    assert not crowded, f"more than 10 parameters and no settings object: {crowded}"
    readme = README.read_text()
    for key, f in functions.items():
        cls = settings_class(f)
        if cls is not None:
            assert cls.__name__ in readme, f"README does not name {cls.__name__}"
