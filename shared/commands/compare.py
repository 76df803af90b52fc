"""``compare``: several stored versions measured on the same labelled rows, side by side, with paired differences."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any

from shared.contract import derived, params
from shared.contract.params import Bounds, TablePath
from shared.errors import BadArgument, BadData
from shared.storage import artifacts
from shared.storage import versions as version_ids
from shared.tables import inputs
from shared.training import bootstrap

if TYPE_CHECKING:
    from shared.families.model import Model


def compare(
    model: Model,
    data: TablePath | None = None,
    *,
    versions: Annotated[list[str], params.Shown("versions")],
    max_unseen: Annotated[float, Bounds(ge=0, le=1)] = 0.05,
    confidence: Annotated[float, Bounds(ge=0.5, lt=1)] = 0.95,
    resamples: Annotated[int, Bounds(ge=100, le=100_000)] = 1000,
    report: Annotated[str, params.Shown("folder"), params.Output()] | None = None,
) -> dict[str, Any]:
    """Measure several stored versions on the same labelled DATA, side by side, each against the first.

    Args:
        data: Labelled table to measure on. Default: a fresh draw of the embedded sample.
        versions: The versions, comma-separated, the first the one the others are compared with: version ids,
            aliases (champion), ALIAS@N or 'latest', e.g. champion,latest.
        max_unseen: Largest share of rows with a category a version never saw in training; above it, exit 65.
        confidence: Coverage of each difference's interval (a paired bootstrap of the rows).
        resamples: Bootstrap resamples of the rows.
        report: Also write a report of these rows to this folder: the first version's, the others' metrics
            and curves beside it.
    """
    from shared.contract import labels
    from shared.pipelines import scoring
    from shared.storage.store import Store
    from shared.training import fitting

    named = _checked(versions)
    store = Store(model._store_url)
    loaded = [artifacts.load(model, text) for text in named]
    labelled = [model.label] if model.label else []
    required, kinds = _columns(model, named, loaded, labelled)
    if report is not None:
        from shared.commands.report import check_target

        check_target(store, report, data, "--report")  # before any work
    if model._dry_run:
        from shared.pipelines import dryrun

        ids = [one.manifest["version"] for one in loaded]
        facts: dict[str, Any] = {"versions": ids, **({"report": report} if report else {})}
        return dryrun.plan(model, "compare", store, data, required, kinds=kinds, **facts)
    frame = derived.apply(model, inputs.read_frame(model, data, inputs.HOLDOUT_SEED, kinds=kinds, required=required))
    target = labels.target(model, frame, "comparison data")
    ids = [model.id_column] if model.id_column else []
    measured, inputs_of = [], []
    for text, one in zip(named, loaded, strict=True):
        features, unseen = one.schema.prepare(frame)
        checked = scoring.check_unseen(one.schema, frame, (*ids, *labelled), max_unseen, unseen)
        predicted = model._predict(one.fitted, features)
        inputs_of.append(model._metric_inputs(one.fitted, features, target, predicted))
        measured.append(
            {
                "version": one.manifest["version"],
                **({"as": text} if text != one.manifest["version"] else {}),
                **artifacts.resolved(one.manifest),
                "metrics": fitting.measure(model, one.fitted, features, target, predicted),
                "rows_with_unseen_levels": checked["rows_with_unseen_levels"],
            }
        )
    comparable = [m for m in model.metrics if getattr(m, "better", None) in ("higher", "lower")]
    differences = []
    for k in range(1, len(loaded)):
        for metric in comparable:
            first = {"version": measured[k]["version"], "against": measured[0]["version"], "metric": metric.__name__}
            values = (measured[k]["metrics"][metric.__name__], measured[0]["metrics"][metric.__name__])
            if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values):  # e.g. AUC of one class
                differences.append({**first, "value": None, "against_value": None, "difference": None})
                continue
            paired = bootstrap.paired(metric, inputs_of[k], inputs_of[0], resamples=resamples, confidence=confidence)
            value, against = paired.pop("new"), paired.pop("holder")
            differences.append({**first, "value": value, "against_value": against, **paired})
    result = {"model": model.name, "rows": len(frame), "versions": measured, "differences": differences}
    if report is not None:
        from shared.commands import report as reports

        document = reports.build(model, store, loaded, frame, data, reports.THRESHOLD, max_unseen)
        result["report"] = reports.write(report, document)["output"]
    return result


def _checked(texts: list[str]) -> list[str]:
    """The version texts: at least two, each a version reference, none given twice."""
    named = [text.strip() for text in texts]
    if len(named) < 2:
        msg = f"--versions: give at least two versions to compare, comma-separated; got {len(named)}"
        raise BadArgument(msg)
    for text in named:
        try:
            version_ids.check_version(text)
        except ValueError as exc:
            raise BadArgument(f"--versions: {text!r} {exc}") from None
    twice = sorted({text for text in named if named.count(text) > 1})
    if twice:
        raise BadArgument(f"--versions names {twice[0]!r} twice; name each version once")
    return named


def _columns(model: Model, named: list[str], loaded: list[Any], labelled: list[str]) -> tuple[list[str], dict]:
    """The columns every version needs, and their kinds; BadData if two versions read a column differently."""
    required: list[str] = []
    kinds: dict[str, str] = {}
    seen: dict[str, str] = {}
    for text, one in zip(named, loaded, strict=True):
        for column in derived.inputs_of(model, [*one.schema.columns, *labelled]):
            if column not in required:
                required.append(column)
        for column, kind in one.schema.kinds.items():
            if column in kinds and kinds[column] != kind:
                msg = (
                    f"{seen[column]} reads {column!r} as {kinds[column]} and {text} as {kind}: they cannot be "
                    "measured on one read of the rows; evaluate each on its own"
                )
                raise BadData(msg)
            kinds[column], seen[column] = kind, text
    return required, {k: v for k, v in kinds.items() if k in required}
