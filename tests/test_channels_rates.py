"""Every library channel's kinetics against an independent NumPy transcription of
the published equations (written here in the papers' textbook form, not with
hh_jax's rate forms), at the reference and at another temperature, with the
per-gate shift and time-constant scale; the rate forms against NeuroML's
definitions; the rendered expression strings against their evaluation."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hh_jax as hh
from hh_jax import channels as ch

# A grid that avoids the removable 0/0 points of the textbook formulas (checked
# separately below): 0.37 mV steps from -119.987 mV.
V = np.arange(-120.0, 60.0, 0.37) + 0.013
CA = np.geomspace(1e-5, 0.2, V.size)  # mM, for the Ca-activated K current


def _phi(q10, T, T_ref):
    return q10 ** ((T - T_ref) / 10.0)


# -- the published equations, transcribed -----------------------------------------


def traub_na(V, V_T=-55.0):  # Pospischil et al. 2008, 36 degC
    v2 = V - V_T
    return {
        "m": (
            0.32 * (13 - v2) / (np.exp((13 - v2) / 4) - 1),
            0.28 * (v2 - 40) / (np.exp((v2 - 40) / 5) - 1),
        ),
        "h": (0.128 * np.exp((17 - v2) / 18), 4 / (1 + np.exp((40 - v2) / 5))),
    }


def traub_k(V, V_T=-55.0):
    v2 = V - V_T
    return {
        "n": (
            0.032 * (15 - v2) / (np.exp((15 - v2) / 5) - 1),
            0.5 * np.exp((10 - v2) / 40),
        )
    }


def m_current(V, tau_max=1000.0):  # steady state and tau (ms) at 36 degC
    inf = 1 / (1 + np.exp(-(V + 35) / 10))
    tau = tau_max / (3.3 * np.exp((V + 35) / 20) + np.exp(-(V + 35) / 20))
    return {"p": (inf / tau, (1 - inf) / tau)}


def l_type(V):  # Reuveni et al. 1993 as in Pospischil et al. 2008, 36 degC
    return {
        "q": (
            0.055 * (-27 - V) / (np.exp((-27 - V) / 3.8) - 1),
            0.94 * np.exp((-75 - V) / 17),
        ),
        "r": (
            0.000457 * np.exp((-13 - V) / 50),
            0.0065 / (np.exp((-15 - V) / 28) + 1),
        ),
    }


def t_type(V, V_x=2.0):  # Destexhe et al. 1996; tau at 24 degC
    W = V + V_x
    inf = 1 / (1 + np.exp((W + 81) / 4))
    tau = 30.8 + (211.4 + np.exp((W + 113.2) / 5)) / (1 + np.exp((W + 84) / 3.2))
    return {"u": (inf / tau, (1 - inf) / tau)}


def t_type_tau(V, V_x=2.0):  # ms at 24 degC
    W = V + V_x
    return 30.8 + (211.4 + np.exp((W + 113.2) / 5)) / (1 + np.exp((W + 84) / 3.2))


def t_type_s_inf(V, V_x=2.0):
    return 1 / (1 + np.exp(-(V + V_x + 57) / 6.2))


def erisir_na(V):  # Erisir et al. 1999 (Börgers 2017)
    return {
        "m": (
            40 * (75.5 - V) / (np.exp((75.5 - V) / 13.5) - 1),
            1.2262 * np.exp(-V / 42.248),
        ),
        "h": (
            0.0035 * np.exp(-V / 24.186),
            -0.017 * (V + 51.25) / (np.exp(-(V + 51.25) / 5.2) - 1),
        ),
    }


def kv3(V):
    return {
        "n_kv3": (
            (95 - V) / (np.exp((95 - V) / 11.8) - 1),
            0.025 * np.exp(-V / 22.222),
        )
    }


def ih(V):  # Kole et al. 2006
    return {
        "m_ih": (
            0.001 * 6.43 * (V + 154.9) / (np.exp((V + 154.9) / 11.9) - 1),
            0.001 * 193 * np.exp(V / 33.1),
        )
    }


def ahp(Ca):  # Destexhe et al. 1994, 22 degC: alpha [Ca]^2, alpha = 48 /(ms mM^2)
    return {"m_ahp": (48.0 * Ca**2, 0.03 + 0.0 * Ca)}


# channel, transcription, reference temperature (degC), Q10
CASES = {
    "TraubMilesSodium": (ch.TraubMilesSodium(), traub_na, 36.0, 3.0),
    "TraubMilesPotassium": (ch.TraubMilesPotassium(), traub_k, 36.0, 3.0),
    "MCurrent": (ch.MCurrent(), m_current, 36.0, 2.3),
    "LTypeCalcium": (ch.LTypeCalcium(), l_type, 36.0, 3.0),
    "TTypeCalcium": (ch.TTypeCalcium(), t_type, 24.0, 3.0),
    "ErisirSodium": (ch.ErisirSodium(), erisir_na, 36.0, 3.0),
    "Kv3Potassium": (ch.Kv3Potassium(), kv3, 36.0, 3.0),
    "HCurrent": (ch.HCurrent(), ih, 34.0, 3.0),
    "CalciumActivatedPotassium": (ch.CalciumActivatedPotassium(), ahp, 22.0, 3.0),
}

# Largest relative difference measured between the two transcriptions on the grid
# (both temperatures): 3.8e-15. Allowed: 1e-13.
RTOL = 1e-13


def _rates(channel, T, Vg=V):
    Vj = jnp.asarray(Vg)
    variables = {"Ca_i": jnp.asarray(CA)}
    return channel.state_rates(Vj, variables, jnp.asarray(T))


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("T_offset", [0.0, -11.5])
def test_rates_match_the_published_equations(name, T_offset):
    channel, reference, T_ref, q10 = CASES[name]
    T = T_ref + T_offset
    ours = _rates(channel, T)
    theirs = reference(CA if name == "CalciumActivatedPotassium" else V)
    assert set(ours) == set(theirs) == set(channel.gates)
    phi = _phi(q10, T, T_ref)
    for g, (alpha, beta) in theirs.items():
        np.testing.assert_allclose(np.asarray(ours[g].alpha), phi * alpha, rtol=RTOL)
        np.testing.assert_allclose(np.asarray(ours[g].beta), phi * beta, rtol=RTOL)


def test_t_type_tau_at_36_degC_is_the_mechanism_s_3_737():
    """At 36 degC tau_u is the 24 degC expression over 3 ** 1.2 = 3.737 (ModelDB
    IT_huguenard.mod; the paper prints the rounded 3.7)."""
    r = _rates(ch.TTypeCalcium(), 36.0)["u"]
    np.testing.assert_allclose(
        np.asarray(r.time_constant), t_type_tau(V) / 3**1.2, rtol=1e-12
    )


@pytest.mark.parametrize("name", list(CASES))
def test_shift_and_tau_scale_transform_each_gate(name):
    """``shift_<g>`` moves the kinetics to V - shift (mV); ``tau_scale_<g>``
    divides both rates (and so multiplies tau) by the scale."""
    channel, reference, T_ref, _ = CASES[name]
    shift, scale = 7.3, 2.5
    values = {f"tau_scale_{g}": scale for g in channel.gates}
    values |= {
        f"shift_{g}": shift
        for g in channel.gates
        if f"shift_{g}" in channel.parameter_infos()
    }
    names = list(values)
    moved = eqx.tree_at(
        lambda c: tuple(getattr(c, n) for n in names),
        channel,
        tuple(jnp.asarray(values[n]) for n in names),
    )
    ours = _rates(moved, T_ref)
    if name == "CalciumActivatedPotassium":  # voltage independent: no shift
        assert not any(n.startswith("shift_") for n in channel.parameter_infos())
        theirs = reference(CA)
    else:
        theirs = reference(V - shift)
    for g, (alpha, beta) in theirs.items():
        np.testing.assert_allclose(np.asarray(ours[g].alpha), alpha / scale, rtol=RTOL)
        np.testing.assert_allclose(np.asarray(ours[g].beta), beta / scale, rtol=RTOL)


def test_t_type_instantaneous_activation_in_the_current():
    channel = ch.TTypeCalcium(V_x=-7.0)
    u = jnp.full(V.shape, 0.3)
    ours = channel.current(jnp.asarray(V), {"u": u})
    theirs = 0.4 * t_type_s_inf(V, -7.0) ** 2 * 0.3 * (V - 120.0)
    np.testing.assert_allclose(np.asarray(ours), theirs, rtol=RTOL, atol=1e-300)


@pytest.mark.parametrize(
    "channel, gate, which, V0, limit",
    [
        # alpha (or beta) = rate at the 0/0 point of the textbook quotient.
        (ch.LTypeCalcium(), "q", "alpha", -27.0, 0.055 * 3.8),
        (ch.HCurrent(), "m_ih", "alpha", -154.9, 0.001 * 6.43 * 11.9),
        (ch.ErisirSodium(), "m", "alpha", 75.5, 40 * 13.5),
        (ch.ErisirSodium(), "h", "beta", -51.25, 0.017 * 5.2),
        (ch.Kv3Potassium(), "n_kv3", "alpha", 95.0, 11.8),
    ],
)
def test_removable_singularities_are_exact_with_finite_gradients(
    channel, gate, which, V0, limit
):
    T = jnp.asarray(channel.reference_temperature)

    def rate(v):
        return getattr(channel.state_rates(v, {}, T)[gate], which)

    v0 = jnp.asarray(V0)
    assert float(rate(v0)) == pytest.approx(limit, rel=1e-14)
    slope = float(jax.grad(rate)(v0))
    h = 1e-4
    fd = (float(rate(v0 + h)) - float(rate(v0 - h))) / (2 * h)
    assert np.isfinite(slope) and slope == pytest.approx(fd, rel=1e-7)


# -- the Ca pool ------------------------------------------------------------------


def test_calcium_pool_against_its_equation():
    """Destexhe et al. 1994 (cadecay): dCa/dt = -10 I_Ca / (2 F d) + (Ca_rest -
    Ca) / tau, the influx term not below 0; I_Ca in uA/cm^2, d in um."""
    pool = ch.CalciumPool(depth_Ca=0.3, tau_Ca=80.0, Ca_rest=1e-4)
    I_Ca = np.linspace(-5.0, 1.0, 61)  # uA/cm^2, inward negative
    Ca = np.linspace(0.0, 0.05, 61)
    F = 96485.33212
    theirs = np.maximum(-10.0 * I_Ca / (2 * F * 0.3), 0.0) + (1e-4 - Ca) / 80.0
    rates = pool.rates(jnp.asarray(I_Ca), jnp.asarray(36.0))
    ours = np.asarray(rates.derivative(jnp.asarray(Ca)))
    np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=1e-18)
    np.testing.assert_allclose(np.asarray(rates.time_constant), 80.0, rtol=1e-15)


# -- rate forms -------------------------------------------------------------------

FORMS = [
    # NeuroML 2 definitions (Channels.xml), written out.
    (ch.Exponential(0.7, -30.0, -12.0), lambda v: 0.7 * np.exp((v + 30) / -12)),
    (ch.Sigmoid(2.0, 15.0, 4.5), lambda v: 2.0 / (1 + np.exp(-(v - 15) / 4.5))),
    (
        ch.ExpLinear(0.3, -40.0, 10.0),
        lambda v: 0.3 * ((v + 40) / 10) / (1 - np.exp(-(v + 40) / 10)),
    ),
    (
        ch.ExpLinear(1.4, 40.0, -5.0),
        lambda v: 1.4 * ((v - 40) / -5) / (1 - np.exp((v - 40) / 5)),
    ),
    (
        ch.Expression("tau_max / (3.3 * exp((v + 35) / 20) + exp(-(v + 35) / 20))"),
        lambda v: 400.0 / (3.3 * np.exp((v + 35) / 20) + np.exp(-(v + 35) / 20)),
    ),
    (ch.Expression("-v ** 2 / 2 - 3"), lambda v: -(v**2) / 2 - 3),
    (ch.Expression("2 ** -v / 1e3"), lambda v: 2.0**-v / 1e3),
]


@pytest.mark.parametrize("form, definition", FORMS)
def test_forms_follow_their_definition_and_render_what_they_evaluate(form, definition):
    values = {"tau_max": jnp.asarray(400.0)}
    ours = np.asarray(form(jnp.asarray(V), values))
    np.testing.assert_allclose(ours, definition(V), rtol=1e-12)
    # The rendered string, evaluated by Python with ^ read as power, in the
    # variable "v - 2": what an exporter writes is what hh_jax computes.
    text = form.expression("v - 2").replace("^", "**")
    scope = {"exp": np.exp, "v": V + 2, "tau_max": 400.0}
    np.testing.assert_allclose(eval(text, scope), ours, rtol=1e-12)


def test_expression_rejects_anything_but_arithmetic():
    for bad in ["__import__('os')", "v.real", "[v]", "exp(v, 2)", "v if v else 1"]:
        with pytest.raises(ValueError, match="rate expression"):
            ch.Expression(bad)
    with pytest.raises(KeyError, match="tau_max"):
        ch.Expression("tau_max * v")(jnp.asarray(1.0), {})


@pytest.mark.parametrize(
    "channel, functions",
    [
        (
            ch.SquidSodium(),
            {"m": (ch.alpha_m, ch.beta_m), "h": (ch.alpha_h, ch.beta_h)},
        ),
        (ch.SquidPotassium(), {"n": (ch.alpha_n, ch.beta_n)}),
    ],
)
def test_squid_kinetics_declarations_equal_the_rate_functions(channel, functions):
    """The squid channels evaluate alpha_m ... beta_n; their declared forms (for
    export) must be the same functions, the 0/0 points -40 and -55 mV included."""
    Vg = jnp.asarray(np.concatenate([V, [-40.0, -55.0]]))
    for gate in channel.kinetics:
        fa, fb = functions[gate.name]
        np.testing.assert_allclose(
            np.asarray(gate.alpha(Vg)), np.asarray(fa(Vg)), rtol=1e-14
        )
        np.testing.assert_allclose(
            np.asarray(gate.beta(Vg)), np.asarray(fb(Vg)), rtol=1e-14
        )


def test_every_library_gate_has_fittable_shift_and_tau_scale():
    for channel, *_ in CASES.values():
        infos = channel.parameter_infos()
        for gate in channel.kinetics:
            scale = infos.get(f"tau_scale_{gate.name}")
            if not gate.instantaneous:
                assert scale.default == 1.0 and scale.unit == "1"
                assert scale.fit_bounds == (0.3, 5.0) and scale.strictly_positive
            shift = infos.get(f"shift_{gate.name}")
            if gate.reads_voltage:
                assert shift.default == 0.0 and shift.unit == "mV"
                assert shift.fit_bounds == (-20.0, 20.0)
    # The squid reference channels stay as they are.
    assert not any(
        n.startswith(("shift_", "tau_scale_"))
        for n in hh.HodgkinHuxley().parameter_infos()
    )
