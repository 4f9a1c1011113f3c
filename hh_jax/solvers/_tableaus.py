"""Butcher tableaus of the explicit Runge–Kutta pairs used by the batched solvers.

Each pair propagates the higher-order solution and estimates the local error by
its difference from the embedded lower-order one. Coefficients from the original
papers: Bogacki & Shampine (1989) 3(2); Dormand & Prince (1980) 5(4);
Tsitouras (2011) 5(4), Table 1 (the simplifying-assumption form).
"""

from typing import NamedTuple


class Tableau(NamedTuple):
    """An explicit RK pair. Stage ``i`` (from 0) is evaluated at ``t + c[i] h`` on
    ``y + h sum_j a[i][j] k_j``; the step is ``y + h sum_i b[i] k_i`` and the error
    estimate ``h sum_i e[i] k_i``. With ``fsal`` the last stage is evaluated at the
    new point and is the first stage of the next step. `error_order` is the order
    of the embedded (lower-order) solution, used by the step-size controller."""

    name: str
    c: tuple[float, ...]
    a: tuple[tuple[float, ...], ...]
    b: tuple[float, ...]
    e: tuple[float, ...]
    order: int
    error_order: int
    fsal: bool


def _difference(b, b_hat):
    return tuple(x - y for x, y in zip(b, b_hat))


_BS3_B = (2 / 9, 1 / 3, 4 / 9, 0.0)
BS3 = Tableau(
    name="bs3",
    c=(0.0, 1 / 2, 3 / 4, 1.0),
    a=((), (1 / 2,), (0.0, 3 / 4), _BS3_B[:3]),
    b=_BS3_B,
    e=_difference(_BS3_B, (7 / 24, 1 / 4, 1 / 3, 1 / 8)),
    order=3,
    error_order=2,
    fsal=True,
)

_DOPRI5_B = (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0.0)
DOPRI5 = Tableau(
    name="dopri5",
    c=(0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0),
    a=(
        (),
        (1 / 5,),
        (3 / 40, 9 / 40),
        (44 / 45, -56 / 15, 32 / 9),
        (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
        (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
        _DOPRI5_B[:6],
    ),
    b=_DOPRI5_B,
    e=_difference(
        _DOPRI5_B,
        (
            5179 / 57600,
            0.0,
            7571 / 16695,
            393 / 640,
            -92097 / 339200,
            187 / 2100,
            1 / 40,
        ),
    ),
    order=5,
    error_order=4,
    fsal=True,
)

_TSIT5_B = (
    0.09646076681806523,
    0.01,
    0.4798896504144996,
    1.379008574103742,
    -3.290069515436081,
    2.324710524099774,
    0.0,
)
TSIT5 = Tableau(
    name="tsit5",
    c=(0.0, 0.161, 0.327, 0.9, 0.9800255409045097, 1.0, 1.0),
    a=(
        (),
        (0.161,),
        (-0.008480655492356989, 0.335480655492357),
        (2.897153057105493, -6.359448489975075, 4.3622954328695815),
        (
            5.325864828439257,
            -11.748883564062828,
            7.4955393428898365,
            -0.09249506636175525,
        ),
        (
            5.86145544294642,
            -12.92096931784711,
            8.159367898576159,
            -0.071584973281401,
            -0.028269050394068383,
        ),
        _TSIT5_B[:6],
    ),
    b=_TSIT5_B,
    e=(
        0.0017800110522257773,
        0.0008164344596567463,
        -0.007880878010261994,
        0.1447110071732629,
        -0.5823571654525552,
        0.45808210592918686,
        -1 / 66,
    ),
    order=5,
    error_order=4,
    fsal=True,
)

# The classical fourth-order method, for fixed steps (no embedded pair).
RK4 = Tableau(
    name="rk4",
    c=(0.0, 0.5, 0.5, 1.0),
    a=((), (0.5,), (0.0, 0.5), (0.0, 0.0, 1.0)),
    b=(1 / 6, 1 / 3, 1 / 3, 1 / 6),
    e=(0.0, 0.0, 0.0, 0.0),
    order=4,
    error_order=4,
    fsal=False,
)

TABLEAUS = {t.name: t for t in (BS3, DOPRI5, TSIT5)}
