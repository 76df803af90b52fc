"""Deprecated: this module only re-exports, for one release. Import from where each name lives now.

``Model`` is in :mod:`shared.model`, the commands in :mod:`shared.commands`, ``command_specs`` in
:mod:`shared.binding`, the sample seeds in :mod:`shared.inputs`, and the training limits and ``Trained`` in
:mod:`shared.fitting`. An import-linter contract keeps new code of this project from importing it.
"""

import warnings

from shared.binding import command_specs
from shared.commands import BUILT_IN
from shared.fitting import MIN_FIT_ROWS, MIN_HELD_OUT_ROWS, WATCH_ROWS, Trained
from shared.inputs import HOLDOUT_SEED, TRAIN_SEED
from shared.model import Model

COMMANDS = tuple(name for name, _ in BUILT_IN)

__all__ = [
    "COMMANDS",
    "HOLDOUT_SEED",
    "MIN_FIT_ROWS",
    "MIN_HELD_OUT_ROWS",
    "TRAIN_SEED",
    "WATCH_ROWS",
    "Model",
    "Trained",
    "command_specs",
]

warnings.warn(
    "shared.base is deprecated and will be removed in the next release: import Model from shared.model "
    "(and command_specs from shared.binding)",
    DeprecationWarning,
    stacklevel=2,
)
