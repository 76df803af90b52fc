"""Drift for one scoring run: the tally its batches feed, its hard limits, and its verdict.

A run's verdict is its own (``judge`` of its counts); a shard's is ``pending`` until the last shard of the run
has written its counts, which then judges the sum of every shard's (see :mod:`shared.monitoring.tallies`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from shared.errors import BadArgument

if TYPE_CHECKING:
    from shared.families.model import Model
    from shared.tables.schema import Schema

log = logging.getLogger(__name__)


class Watch:
    """Drift for one scoring run: the tally its batches feed, its hard limits, and its verdict."""

    def __init__(
        self,
        model: Model,
        manifest: dict[str, Any],
        schema: Schema,
        on_drift: str,
        limits: Any,
        folder: str | None = None,
    ) -> None:
        """BadArgument under ``on_drift='fail'`` for a version without a reference profile (a warning otherwise),
        or for a shard's run ``folder`` that cannot keep its counts; a profile that cannot be read is the
        version's fault (3)."""
        from shared.monitoring import drift

        self.reference = manifest.get("profile") if on_drift != "off" else None
        self.on_drift, self.version, self.bounds = on_drift, manifest["version"], limits
        self.proof: dict[str, Any] = {}  # a shard's: which run, shard and rows its drift part counts
        self.source: Any = None  # a shard's input, which the parts it merges must cover once
        self.tally = drift.Tally(self.reference, schema, model._drift_values) if self.reference is not None else None
        if on_drift != "off" and self.reference is None:
            msg = (
                f"{model.name} version {manifest['version']} has no reference profile (trained by an older "
                f"modelfleet), so its input cannot be checked for drift"
            )
            if on_drift == "fail":
                raise BadArgument(f"{msg}: retrain it, or score with --on_drift=warn or off")
            log.warning("%s", msg)
        if folder is not None and self.tally is not None:
            from shared.monitoring import tallies

            tallies.check_folder(folder)

    def limits(self, counts: dict[str, Any], what: str) -> None:
        """BadData (65) if the counts so far break --max_missing_rise or --max_out_of_range."""
        from shared.monitoring import drift

        rise, outside = self.bounds
        drift.check_limits(self.reference or {}, counts, rise, outside, what)

    def verdict(self, result: dict[str, Any], folder: str | None, part: Any) -> dict[str, Any]:
        """``result`` with the run's drift verdict (``pending`` for a shard whose run has others to come);
        Drifted (101) carrying it under --on_drift=fail."""
        from shared.monitoring import drift, tallies

        if self.on_drift == "off":
            return result
        if self.tally is None or self.reference is None:
            return result | {"drift": {"status": "unavailable"}}
        counts = self.tally.counts(self.version)
        if part is None or folder is None:
            found = drift.judge(self.reference, counts)
        else:
            tallies.write_part(folder, counts, self.proof)
            run = tallies.gather(folder, part.count, self.version, self.proof["run"], self.source)
            if run.missing:
                done = part.count - run.missing
                return result | {"drift": {"status": "pending", "shards_counted": done, "shards": part.count}}
            found = drift.judge(self.reference, drift.merge(run.parts, self.reference))
            found["path"] = tallies.write_verdict(folder, found)
        return drift.judged(result | {"drift": found}, self.on_drift)
