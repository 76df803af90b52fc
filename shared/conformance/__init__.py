"""The conformance suite: checks that every model class passes, like scikit-learn's ``check_estimator``.

Use it from a model's tests::

    @pytest.mark.parametrize("check", conformance.checks(Churn), ids=conformance.check_id)
    def test_conformance(check, tmp_path):
        check(tmp_path)

or run everything at once with ``check_model(Churn, workdir)``. Each check raises AssertionError
saying what the model got wrong. A check needs only a folder to write its store in.

The checks live in modules by what they check, and every one is importable from here (``conformance.check_*``):
``declarations`` (what the class declares, its sample); ``learning`` (training, what it learns, its
hyperparameters, refusals, determinism); ``scoring`` (scoring's input contract, streaming and shards);
``round_trips`` (stored versions predict what the fitted model predicts, held-out rows, the previous release's
versions); ``command_line`` (the command line and ``describe``); ``agreement`` (the gate, the profile and the
report agree with ``evaluate``). ``helpers`` holds what they share (the sample, a trained version, the
repeated assertions), below them all.
"""

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shared.conformance.agreement import (
    check_gate_measures_what_evaluate_measures,
    check_profile_counts_what_the_stored_version_predicts,
    check_report_plots_what_evaluate_measures,
)
from shared.conformance.command_line import check_command_line, check_describe
from shared.conformance.declarations import check_declarations, check_sample_is_seeded
from shared.conformance.helpers import EXAMPLES, MARGIN, PERMUTATIONS, ROWS
from shared.conformance.learning import (
    check_deterministic,
    check_evaluates,
    check_hyperparameters_reach_estimator,
    check_learns_its_sample,
    check_refuses_useless_training,
    check_trains_on_own_sample,
)
from shared.conformance.round_trips import (
    check_artifact_round_trip,
    check_declaration_order_never_matters,
    check_held_out_rows_reproduce_train_metrics,
    check_reads_versions_of_the_previous_release,
)
from shared.conformance.scoring import (
    check_matches_columns_by_name,
    check_rejects_missing_feature,
    check_scores_every_row,
    check_scoring_input_contract,
    check_streams_and_shards_like_whole_file,
)
from shared.families.model import Model


def checks(model_cls: type[Model], data: Any = None) -> list[Callable[[Path], None]]:
    """Return every check bound to ``model_cls``; call each with a fresh folder.

    ``data``: a labelled DataFrame of the model's own, for a model without an embedded sample (or to check it
    on real rows): each check then draws its rows from it, seeded, instead of from the sample.
    """
    bound = model_cls if data is None else drawing_from(model_cls, data)
    return [functools.partial(check, bound) for check in ALL_CHECKS]


def drawing_from(model_cls: type[Model], data: Any) -> type[Model]:
    """``model_cls`` with ``data`` as its sample: ``rows`` rows drawn from it by a seeded permutation (with
    replacement only when it has fewer rows)."""
    import numpy as np

    def draw(self: Any, rows: int, rng: Any) -> Any:
        positions = rng.permutation(len(data))[:rows] if rows <= len(data) else rng.integers(0, len(data), rows)
        return data.iloc[np.asarray(positions)].reset_index(drop=True)

    body = {"name": model_cls.name, "__doc__": model_cls.__doc__, "__module__": model_cls.__module__}
    return type(model_cls.__name__, (model_cls,), {**body, "_make_sample": draw, "_conformance_rows": data})


def check_id(check: Any) -> str:
    """A readable pytest id for a bound check."""
    return check.func.__name__.removeprefix("check_")


def check_model(model_cls: type[Model], workdir: Path) -> None:
    """Run every check on ``model_cls``, each in its own sub-folder of ``workdir``."""
    for check in checks(model_cls):
        folder = Path(workdir) / check_id(check)
        folder.mkdir(parents=True, exist_ok=True)
        check(folder)


ALL_CHECKS = (
    check_declarations,
    check_sample_is_seeded,
    check_trains_on_own_sample,
    check_scores_every_row,
    check_evaluates,
    check_learns_its_sample,
    check_artifact_round_trip,
    check_held_out_rows_reproduce_train_metrics,
    check_declaration_order_never_matters,
    check_hyperparameters_reach_estimator,
    check_reads_versions_of_the_previous_release,
    check_refuses_useless_training,
    check_deterministic,
    check_rejects_missing_feature,
    check_matches_columns_by_name,
    check_scoring_input_contract,
    check_streams_and_shards_like_whole_file,
    check_describe,
    check_command_line,
    check_gate_measures_what_evaluate_measures,
    check_profile_counts_what_the_stored_version_predicts,
    check_report_plots_what_evaluate_measures,
)

__all__ = [
    "ALL_CHECKS",
    "EXAMPLES",
    "MARGIN",
    "PERMUTATIONS",
    "ROWS",
    "check_artifact_round_trip",
    "check_command_line",
    "check_declaration_order_never_matters",
    "check_declarations",
    "check_describe",
    "check_deterministic",
    "check_evaluates",
    "check_gate_measures_what_evaluate_measures",
    "check_held_out_rows_reproduce_train_metrics",
    "check_hyperparameters_reach_estimator",
    "check_id",
    "check_learns_its_sample",
    "check_matches_columns_by_name",
    "check_model",
    "check_profile_counts_what_the_stored_version_predicts",
    "check_reads_versions_of_the_previous_release",
    "check_refuses_useless_training",
    "check_rejects_missing_feature",
    "check_report_plots_what_evaluate_measures",
    "check_sample_is_seeded",
    "check_scores_every_row",
    "check_scoring_input_contract",
    "check_streams_and_shards_like_whole_file",
    "check_trains_on_own_sample",
    "checks",
    "drawing_from",
]
