"""``drift``: the drift verdict of a sharded scoring run, from the counts its shards wrote."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated, Any, Literal

from shared.contract import params
from shared.errors import BadArgument

if TYPE_CHECKING:
    from shared.families.model import Model

log = logging.getLogger(__name__)


def drift(
    model: Model,
    *,
    output: Annotated[str, params.Shown("folder"), params.Output()],
    on_drift: Annotated[Literal["warn", "fail"], params.PerCommand()] = "warn",
) -> dict[str, Any]:
    """Merge the drift counts of a sharded scoring run, give its verdict and draw it (_drift/report.html).

    Args:
        output: The run's output folder, as its shards were given it (with no --output:
            <store>/<model>/predictions/<version>).
        on_drift: When the run's input no longer looks like the training rows: warn (exit 0) or fail
            (exit 101).
    """
    from shared.errors import MissingInput
    from shared.monitoring import drift, tallies
    from shared.monitoring import report as pages
    from shared.storage import artifacts, pins
    from shared.storage.store import Store

    folder = output.rstrip("/") or output
    pin = pins.existing(folder)
    if pin is None:
        msg = f"--output {folder} holds no sharded scoring run (no {pins.PIN}): give the folder its shards wrote to"
        raise MissingInput(msg)
    if pin.get("model") != model.name:
        msg = f"--output {folder} holds a run of {pin.get('model')}, not {model.name}: run that model's drift"
        raise MissingInput(msg)
    manifest = artifacts.resolve(Store(model._store_url), model, pin["version"])
    reference = manifest.get("profile")
    result = {"model": model.name, "version": pin["version"], "output": folder, "shards": pin["shards"]}
    if reference is None:
        msg = f"{model.name} version {pin['version']} has no reference profile (trained by an older modelfleet)"
        if on_drift == "fail":
            raise BadArgument(f"{msg}: its runs cannot be checked for drift; retrain it, or use --on_drift=warn")
        log.warning("%s: its runs cannot be checked for drift", msg)
        return result | {"drift": {"status": "unavailable"}}
    schema = artifacts.stored_schema(model, manifest)
    drift.check_profile(reference, schema)
    run = tallies.gather(folder, pin["shards"], pin["version"], pins.run_id(pin))
    if run.missing:
        shown = ", ".join(map(str, run.first_missing)) + (", ..." if run.missing > len(run.first_missing) else "")
        msg = (
            f"{run.missing} of the {pin['shards']} shards of the run in {folder} have not written their counts "
            f"(shards {shown}): wait for them, or score them again"
        )
        raise MissingInput(msg)
    counts = drift.merge(run.parts, reference)
    found = drift.judge(reference, counts)
    if model._dry_run:
        return {"dry_run": True, "model": model.name, "command": "drift", **result, "drift": found}
    document = pages.drift_document(model.name, found, reference, counts, schema.categorical)
    found["path"] = tallies.write_verdict(folder, found)
    result["report"] = pages.save(f"{folder}/{tallies.FOLDER}", document, pages.drift_page)["output"]
    return drift.judged(result | {"drift": found}, on_drift)
