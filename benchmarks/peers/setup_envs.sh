#!/usr/bin/env bash
# Create one virtual environment per peer simulator, outside the repository.
# Idempotent: an environment whose marker file exists is left alone.
#
#   bash benchmarks/peers/setup_envs.sh            # all peers
#   bash benchmarks/peers/setup_envs.sh neuron     # just one
#
# PEER_ENVS (default /work/peer-envs) sets where the environments go; PYTHON
# (default python3, 3.11 tested) the interpreter they are made from.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PEER_ENVS=${PEER_ENVS:-/work/peer-envs}
PYTHON=${PYTHON:-python3}
mkdir -p "$PEER_ENVS"

# The peers, pinned to the versions this benchmark was measured with; every other
# package is held to constraints/<peer>.txt (pip freeze of the measured env).
declare -A REQS=(
  [neuron]="neuron==9.0.2 numpy==2.3.5"
  # Brian2 2.9 still calls ndarray.ptp, removed in NumPy 2.4.
  [brian2]="brian2==2.9.0 numpy==2.3.5 setuptools"
  # Jaxley pins its own JAX range; jax/jaxlib are the versions it picked.
  [jaxley]="jaxley==0.14.0 jax==0.10.2 jaxlib==0.10.2"
)

peers=("$@")
if [ ${#peers[@]} -eq 0 ]; then peers=(neuron brian2 jaxley); fi

for name in "${peers[@]}"; do
  env="$PEER_ENVS/$name"
  if [ -f "$env/.hh_jax_peer_ok" ]; then
    echo "[$name] present at $env, skipping"
    continue
  fi
  echo "[$name] creating $env"
  rm -rf "$env"
  "$PYTHON" -m venv "$env"
  "$env/bin/python" -m pip install --quiet --upgrade pip
  constraints=()
  if [ -f "$HERE/constraints/$name.txt" ]; then
    constraints=(-c "$HERE/constraints/$name.txt")
  fi
  # shellcheck disable=SC2086
  "$env/bin/python" -m pip install --quiet "${constraints[@]}" ${REQS[$name]}
  "$env/bin/python" -m pip freeze > "$env/requirements-frozen.txt"
  touch "$env/.hh_jax_peer_ok"
  echo "[$name] done"
done
