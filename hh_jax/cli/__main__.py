"""``python -m hh_jax.cli`` runs the ``hh-jax`` command."""

import sys

from . import main

sys.exit(main())
