"""Batched solvers for many independent neurons (the fast path of
:func:`hh_jax.simulate_batch`). Internal: the public entry points are
``simulate_batch`` and ``simulate_fixed``."""
