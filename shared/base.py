"""Deprecated: this module only re-exports, for one release. Import from where each name lives now.

``Model`` is in :mod:`shared.model`, the commands in :mod:`shared.commands`, ``command_specs`` in
:mod:`shared.binding`, the sample seeds in :mod:`shared.inputs`, and the training limits and ``Trained`` in
:mod:`shared.fitting`. An import-linter contract keeps new code of this project from importing it.
"""

import importlib
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

# Other names the old module happened to import, and where each lives now: still importable from here.
_MOVED = {
    "BadArgument": "shared.errors",
    "BadData": "shared.errors",
    "ModelDefinitionError": "shared.errors",
    "NothingToDo": "shared.errors",
    "shown": "shared.errors",
    "is_frame": "shared.inputs",
    "Bounds": "shared.params",
    "Check": "shared.params",
    "TablePath": "shared.params",
    "binding": "shared",
    "formats": "shared",
    "overlap": "shared",
    "params": "shared",
    "versions": "shared",
}


def __getattr__(name: str) -> object:
    if name not in _MOVED:
        raise AttributeError(f"module 'shared.base' has no attribute {name!r}")
    home = importlib.import_module(_MOVED[name])
    return getattr(home, name) if hasattr(home, name) else importlib.import_module(f"{_MOVED[name]}.{name}")


warnings.warn(
    "shared.base is deprecated and will be removed in the next release: import Model from shared.model "
    "(and command_specs from shared.binding)",
    DeprecationWarning,
    stacklevel=2,  # the importing line (the import machinery's own frames are skipped)
)
