"""``sample``: write the model's embedded synthetic data set."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from shared.contract import params
from shared.contract.params import Bounds

if TYPE_CHECKING:
    from shared.families.model import Model


def sample(
    model: Model,
    *,
    rows: Annotated[int, Bounds(ge=1, le=10_000_000), params.PerCommand()] = 5000,
    seed: Annotated[int, Bounds(ge=0), params.PerCommand()] = 0,
    output: params.TableOutput | None = None,
) -> dict[str, Any]:
    """Write the model's synthetic data set: seeded, realistic, with a learnable signal.

    Args:
        rows: Number of rows.
        seed: Random seed; the same seed gives the same rows.
        output: Where to write it. Default: <model>-sample.parquet in the current folder.
    """
    from shared.tables.data import check_output, write_table

    model._sample_frame(1, seed)  # MissingInput now if the model has no embedded sample
    target = check_output(output if output is not None else f"{model.name}-sample.parquet")
    if model._dry_run:
        return {"dry_run": True, "model": model.name, "command": "sample", "rows": rows, "output": target}
    frame = model._sample_frame(rows, seed)
    write_table(frame, target)
    return {"model": model.name, "output": target, "rows": len(frame), "columns": list(frame.columns)}
