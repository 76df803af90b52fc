"""What the checks share: the sample, a version trained on it, and the assertions they repeat.

``_sample`` draws the model's rows, ``_trained`` gives a check a store holding one version trained on them (a
copy of one training per model class), ``_same_metrics`` and ``_expect`` are the assertions several checks
make. The bottom of the suite: every module of checks imports it; it imports none of them.
"""

import atexit
import copy
import math
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shared.families.model import Model
from shared.tables.inputs import TRAIN_SEED

ROWS = 1500  # small enough to train in about a second, large enough for a learnable signal
EXAMPLES = 4  # generated cases per property check: each one trains a model
PERMUTATIONS = 100  # shuffles of the held-out predictions that measure what a model that learned nothing scores
MARGIN = 3.0  # how many standard deviations of those shuffled scores a model that learned must beat them by


def _sample(model_cls: type[Model], seed: int = TRAIN_SEED, rows: int = ROWS):
    return model_cls()._sample_frame(rows, seed)


def _outputs(model_cls: type[Model]) -> list[str]:
    """The prediction columns a scored row gets (one, or a class and its probabilities), in order."""
    return [name for name, _ in model_cls()._outputs()]


def _unlabelled(model_cls: type[Model], seed: int, rows: int):
    """A sample as scoring sees it: without the label column."""
    frame = _sample(model_cls, seed, rows)
    return frame.drop(columns=[model_cls.label]) if model_cls.label else frame


def _train(model_cls: type[Model], workdir: Path) -> tuple[Model, dict[str, Any]]:
    """A fresh training on the sample with default hyperparameters, in ``workdir``'s store."""
    model = model_cls(store=str(Path(workdir) / "store"))
    return model, model.train(_sample(model_cls))


# (model class, MODELFLEET_* settings) -> the store of one version trained on the sample, and train's result
_VERSIONS: dict[tuple[type[Model], tuple[tuple[str, str], ...]], tuple[Path, dict[str, Any]]] = {}


def _trained(model_cls: type[Model], workdir: Path) -> tuple[Model, dict[str, Any]]:
    """``workdir``'s store holding a version trained on the sample with default hyperparameters, as ``_train``.

    The version is trained once per model class (and MODELFLEET_* settings) in this process, and each check
    gets a copy of that store: training is deterministic (check_deterministic trains twice to prove it), so a
    copy is what training again would commit, and no check sees what another did to its store. The checks that
    prove what training writes (round trips, held-out rows, determinism, the gate) train fresh.
    """
    settings = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("MODELFLEET_")))
    key = (model_cls, settings)
    if key not in _VERSIONS:
        folder = Path(tempfile.mkdtemp(prefix="modelfleet-conformance-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _, result = _train(model_cls, folder)
        _VERSIONS[key] = (folder / "store", result)
    store, result = _VERSIONS[key]
    target = Path(workdir) / "store"
    shutil.copytree(store, target, dirs_exist_ok=True)
    return model_cls(store=str(target)), {**copy.deepcopy(result), "store": str(target)}


def _same_metrics(expected: dict[str, Any], got: dict[str, Any], what: str, tol: float = 1e-9) -> None:
    """Assert two metric results are equal (numbers to ``tol``, nested dicts key by key)."""
    assert list(got) == list(expected), f"{what}: metrics {list(got)}, train reported {list(expected)}"
    for name, value in expected.items():
        if isinstance(value, dict):
            assert got[name] == value, f"{what}: {name} is {got[name]}, train reported {value}"
        else:
            assert math.isclose(got[name], value, rel_tol=tol, abs_tol=tol), (
                f"{what}: {name} is {got[name]!r}, train reported {value!r}"
            )


def _expect(error: type[Exception], call: Callable[[], Any], text: str) -> None:
    """Assert that ``call`` raises ``error`` with ``text`` in its message."""
    try:
        call()
    except error as exc:
        assert text in str(exc), f"the {error.__name__} does not mention {text!r}: {exc}"
    else:
        raise AssertionError(f"expected {error.__name__} mentioning {text!r}")
