"""A classifier of more than two classes: its declared classes, the columns it writes, and what it must learn.

A multiclass model (``objective = "multiclass"`` in :mod:`shared.families.boosted`) declares ``classes``: the
label's values, in an order that is data. The label is learnt as each row's position in that order; a scored
row gets the predicted class in ``prediction`` (the class of highest probability; a tie goes to the class
declared first) and one ``probability_<class>`` column per class, in the declared order. A version records
its classes and is refused at load by a model that declares others. A label value outside the classes is
refused, in training data and in data to evaluate alike: training never saw it, so no probability measures it.
"""

from __future__ import annotations

import numbers
from typing import Any

from shared.errors import ArtifactRejected, BadData, ModelDefinitionError, shown

PREFIX = "probability_"
INT64 = (-(2**63), 2**63 - 1)  # whole-number classes are written as int64


def probability_column(value: Any) -> str:
    """The output column holding a class's probability."""
    return f"{PREFIX}{value}"


def check_declared(cls: Any) -> None:
    """ModelDefinitionError, as the class is defined, unless a multiclass model declares at least two distinct
    classes, all text or all whole numbers, whose columns are free; or if another kind declares classes."""
    declared, where = cls.classes, f"model class {cls.__qualname__}"
    if cls.objective != "multiclass":
        if declared:
            msg = f"{where} declares classes but its objective is {cls.objective!r}: set objective = 'multiclass'"
            raise ModelDefinitionError(msg)
        return
    if not isinstance(declared, tuple) or len(declared) < 2:
        msg = (
            f"{where} is a multiclass model: declare its classes as a tuple of at least two label values, in "
            f'the order of their probability columns, e.g. classes = ("basic", "standard", "premium"); '
            f"got {shown(declared)}"
        )
        raise ModelDefinitionError(msg)
    text = all(isinstance(c, str) for c in declared)
    whole = all(isinstance(c, numbers.Integral) and not isinstance(c, bool) for c in declared)
    if not (text or whole):
        msg = (
            f"{where}: classes must be all text or all whole numbers, as the label holds them; "
            f"got {', '.join(shown(c) for c in declared)}"
        )
        raise ModelDefinitionError(msg)
    if whole:
        declared = cls.classes = tuple(int(c) for c in declared)  # NumPy's integers as Python's (JSON-ready)
        outside = [c for c in declared if not INT64[0] <= c <= INT64[1]]
        if outside:
            msg = f"{where}: class {outside[0]} is outside the 64-bit integers that a scored row's class is written as"
            raise ModelDefinitionError(msg)
    for value in declared if text else ():
        _check_text_class(where, value)
    if len(set(declared)) != len(declared):
        twice = sorted({shown(c) for c in declared if declared.count(c) > 1})
        raise ModelDefinitionError(f"{where}: classes name {', '.join(twice)} more than once; name each class once")
    if getattr(cls, "positive_label", None) is not None:
        msg = f"{where}: positive_label is a binary model's; a multiclass model declares its classes alone"
        raise ModelDefinitionError(msg)
    taken = {cls.prediction: "the predicted class", cls.id_column: "the id column", "as_of": "where --as_of goes"}
    for value in declared:
        column = probability_column(value)
        if column in taken:
            msg = f"{where}: class {shown(value)}'s column {column!r} is {taken[column]}; rename one of them"
            raise ModelDefinitionError(msg)


def _check_text_class(where: str, value: str) -> None:
    """ModelDefinitionError for a text class a table cannot hold as written, or that a reader would mistake."""
    from shared.tables.stream import NULL_TEXT

    if not value.strip() or value != value.strip() or not value.isprintable():
        problem = "is blank" if not value.strip() else "has spaces around it" if value.isprintable() else ""
        problem = problem or "holds a character that does not print (a control or zero-width character)"
        raise ModelDefinitionError(f"{where}: class {shown(value)} {problem}; name each class with visible text")
    if value in NULL_TEXT:
        msg = f"{where}: class {shown(value)} reads as a missing value in a CSV file; name the class otherwise"
        raise ModelDefinitionError(msg)


def outputs(model: Any) -> list[tuple[str, str]]:
    """The predicted class (text or whole numbers, as declared), then each class's probability."""
    kind = "string" if isinstance(model.classes[0], str) else "int64"
    return [(model.prediction, kind), *((probability_column(c), "float64") for c in model.classes)]


def output_values(model: Any, predicted: Any) -> dict[str, Any]:
    """The output columns of a batch's probabilities (rows x classes, in the declared order)."""
    import numpy as np

    probabilities = _matrix(predicted, len(model.classes))
    chosen = np.asarray(model.classes, dtype=object if isinstance(model.classes[0], str) else "int64")
    values = {model.prediction: chosen[predicted_codes(probabilities)]}
    return values | {probability_column(c): probabilities[:, k] for k, c in enumerate(model.classes)}


def predicted_codes(predicted: Any) -> Any:
    """Each row's predicted class as its position in the declared classes: the highest probability, the first
    declared on a tie (what the reference profile and drift count)."""
    import numpy as np

    probabilities = np.asarray(predicted)
    if probabilities.size == 0:  # no row (LightGBM may give a (0,) array)
        return np.zeros(0, dtype="int64")
    return np.argmax(probabilities, axis=1).astype("int64")


def _matrix(predicted: Any, classes: int) -> Any:
    import numpy as np

    probabilities = np.asarray(predicted, dtype="float64")
    return probabilities.reshape(len(probabilities), classes) if probabilities.size == 0 else probabilities


def check_learnable(model: Any, fit_target: Any, held_target: Any) -> None:
    """BadData unless every class has rows to learn from and the held-out rows hold two classes at least."""
    import numpy as np

    if fit_target is not None:
        counts = np.bincount(np.asarray(fit_target, dtype="int64"), minlength=len(model.classes))
        missing = [k for k, n in enumerate(counts) if n == 0]
        if missing:
            held = 0 if held_target is None else int(np.isin(np.asarray(held_target), missing).sum())
            where = (
                f" ({held} row(s) hold it, all held out to measure: give more rows of it, or another --split_seed)"
                if held
                else ""
            )
            msg = (
                f"training data: no row to fit holds class {', '.join(shown(model.classes[k]) for k in missing)} "
                f"of label column {model.label!r}{where}; a model cannot learn a class it never sees: give rows of "
                f"each class, or drop the class from the model's classes"
            )
            raise BadData(msg)
    if held_target is not None and held_target.nunique() < 2:
        shown_class = shown(model.classes[int(held_target.iloc[0])])
        msg = (
            f"the {len(held_target)} held-out rows all have {model.label!r} = {shown_class}; a classifier cannot be "
            f"measured on one class: give more rows or a larger --valid_fraction"
        )
        raise BadData(msg)


def check_version(model: Any, booster: Any, manifest: dict[str, Any], where: str) -> None:
    """ArtifactRejected unless the version was trained for this model's classes, in its order, and its model
    file predicts that many."""
    stored = manifest.get("classes")
    declared = list(model.classes) if model.objective == "multiclass" else None
    if stored != declared:
        said = "no classes" if stored is None else f"classes {stored}"
        wants = "no classes" if declared is None else f"classes {declared}"
        msg = f"{where} was trained with {said}; {model.name} now declares {wants}: retrain it"
        raise ArtifactRejected(msg)
    per_round = getattr(booster, "num_model_per_iteration", None)
    if declared is not None and per_round is not None and per_round() != len(declared):
        msg = f"{where}: its model file predicts {per_round()} classes, its manifest records {len(declared)}"
        raise ArtifactRejected(msg)
