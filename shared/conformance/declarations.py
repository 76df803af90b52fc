"""Checks of what a model class declares and of its embedded sample, before anything is trained."""

from pathlib import Path

from shared.conformance.helpers import _sample
from shared.contract import derived, params
from shared.families.model import Model


def check_declarations(model_cls: type[Model], workdir: Path) -> None:
    """The class declares its columns, metrics and documented hyperparameters."""
    assert model_cls.__doc__, f"{model_cls.__name__} needs a docstring: it is the model's help line"
    assert model_cls.numeric or model_cls.categorical, f"{model_cls.__name__} declares no feature columns"
    assert model_cls.metrics, f"{model_cls.__name__} declares no metrics"
    overlap = {model_cls.label, model_cls.id_column} & {*model_cls.numeric, *model_cls.categorical}
    assert not overlap, f"{model_cls.__name__} lists {overlap} both as features and as label or id"
    for spec in params.hyperparameters(model_cls.Params):
        assert spec.help, f"hyperparameter {spec.name!r} of {model_cls.__name__} has no help text"


def check_sample_is_seeded(model_cls: type[Model], workdir: Path) -> None:
    """The embedded sample has the declared columns, the asked-for rows, and depends only on the seed."""
    first, again, other = _sample(model_cls, 3, 200), _sample(model_cls, 3, 200), _sample(model_cls, 4, 200)
    assert len(first) == 200, f"sample(rows=200) gave {len(first)} rows"
    expected = [model_cls.id_column, *derived.inputs_of(model_cls, [*model_cls.numeric, *model_cls.categorical])]
    expected += [model_cls.label] if model_cls.label else []
    missing = [c for c in expected if c not in first.columns]
    assert not missing, f"the sample lacks declared columns {missing}"
    assert first.equals(again), "the same seed gave different samples"
    assert not first.equals(other), "different seeds gave the same sample"
