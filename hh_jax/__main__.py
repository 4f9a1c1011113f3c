"""``python -m hh_jax`` runs the ``hh-jax`` command."""

import sys

from .cli import main

sys.exit(main())
