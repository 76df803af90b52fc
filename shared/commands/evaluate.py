"""``evaluate``: measure a stored version's metrics on labelled rows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from shared.contract import derived, params
from shared.contract.params import Bounds, Check, TablePath
from shared.pipelines import dryrun
from shared.storage import artifacts, versions
from shared.tables import inputs

if TYPE_CHECKING:
    from shared.families.model import Model


def evaluate(
    model: Model,
    data: TablePath | None = None,
    *,
    version: Annotated[str, params.Shown("version id, alias or 'latest'"), Check(versions.check_version)] = "latest",
    max_unseen: Annotated[float, Bounds(ge=0, le=1)] = 0.05,
    report: Annotated[str, params.Shown("folder"), params.Output()] | None = None,
) -> dict[str, Any]:
    """Measure a stored model version's metrics on labelled DATA.

    Args:
        data: Labelled table to evaluate on. Default: a fresh draw of the embedded sample.
        version: Model version to evaluate: a version id, an alias (champion) or ALIAS@N (one event of it);
            'latest' is the newest committed one.
        max_unseen: Largest share of rows with a category never seen in training; above it, exit 65.
        report: Also write the version's report of these rows (report.html, report.json) to this folder.
    """
    from shared.contract import labels
    from shared.pipelines import scoring
    from shared.storage.store import Store
    from shared.training import fitting

    labelled = [*([model.label] if model.label else [])]
    if report is not None:
        from shared.commands.report import check_target

        check_target(Store(model._store_url), report, data, "--report")  # before any work
    if model._dry_run:
        store = Store(model._store_url)
        manifest = artifacts.resolve(store, model, version)
        stored = artifacts.stored_schema(model, manifest)
        columns = derived.inputs_of(model, [*stored.columns, *labelled])
        kinds = {k: v for k, v in stored.kinds.items() if k in columns}
        facts: dict[str, Any] = {"version": manifest["version"], **({"report": report} if report else {})}
        return dryrun.plan(model, "evaluate", store, data, columns, kinds=kinds, **facts)
    loaded = artifacts.load(model, version)
    _, manifest, schema, fitted = loaded[:4]
    required = derived.inputs_of(model, [*schema.columns, *labelled])
    kinds = {k: v for k, v in schema.kinds.items() if k in required}
    frame = derived.apply(model, inputs.read_frame(model, data, inputs.HOLDOUT_SEED, kinds=kinds, required=required))
    features, unseen = schema.prepare(frame)
    ids = [model.id_column] if model.id_column else []
    unseen_report = scoring.check_unseen(schema, frame, (*ids, *labelled), max_unseen, unseen)
    metrics = fitting.measure(model, fitted, features, labels.target(model, frame, "evaluation data"))
    resolved = {"alias": manifest["resolved"]} if "resolved" in manifest else {}
    result = {
        "model": model.name,
        "version": manifest["version"],
        **resolved,
        "rows": len(frame),
        "metrics": metrics,
        **unseen_report,
    }
    if report is not None:
        from shared.commands import report as reports
        from shared.storage.store import Store

        store = Store(model._store_url)
        document = reports.build(model, store, [loaded], frame, data, reports.THRESHOLD, max_unseen)
        result["report"] = reports.write(report, document)["output"]
    return result
