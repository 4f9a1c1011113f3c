"""Transcendental-op counts in the compiled HLO of the six squid rates, in the
formulation before the shared exponentials (commit 8b76925, read with `git show`)
and now; values and their gradient, float32 and float64.

    python benchmarks/hlo_counts.py      # needs the git history
"""

import collections
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

import hh_jax.channels._squid as new

OLD = "8b76925"
NAMES = ("alpha_m", "beta_m", "alpha_h", "beta_h", "alpha_n", "beta_n")
OPS = ("exponential", "exponential-minus-one", "log", "log-plus-one", "divide")


def _old_rates() -> dict:
    root = Path(__file__).resolve().parents[1]

    def show(path):
        return subprocess.run(
            ["git", "-C", str(root), "show", f"{OLD}:{path}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    tmp = Path(tempfile.mkdtemp())
    (tmp / "old_numerics.py").write_text(show("hh_jax/_numerics.py"))
    sys.path.insert(0, str(tmp))
    import old_numerics  # noqa: E402

    src = show("hh_jax/channels/_squid.py")
    body = src[src.index("def alpha_m") : src.index("class SquidSodium")]
    ns = dict(jnp=jnp, Array=Array, Float=Float)
    ns.update(x_over_expm1=old_numerics.x_over_expm1, sigmoid=old_numerics.sigmoid)
    exec(body, ns)  # the six old rate functions, as they were
    return ns


def _counts(f, V):
    txt = jax.jit(f).lower(V).compile().as_text()
    found = collections.Counter(re.findall(r"= \w+\[[^\]]*\][^ ]* (\w[\w-]*)\(", txt))
    return {k: found.get(k, 0) for k in OPS} | {"all ops": sum(found.values())}


def main():
    old = _old_rates()
    sets = {f"before ({OLD})": [old[n] for n in NAMES]}
    sets["now"] = [getattr(new, n) for n in NAMES]
    for x64 in (False, True):
        jax.config.update("jax_enable_x64", x64)
        V = jnp.linspace(-80.0, 40.0, 1000)
        for label, fs in sets.items():
            rates = lambda V, fs=fs: tuple(f(V) for f in fs)  # noqa: E731
            grad = jax.grad(lambda V, r=rates: sum(jnp.sum(x) for x in r(V)))
            dtype = "f64" if x64 else "f32"
            print(f"{dtype} {label:>16} rates: {_counts(rates, V)}")
            print(f"{dtype} {label:>16} gradient: {_counts(grad, V)}")


if __name__ == "__main__":
    main()
