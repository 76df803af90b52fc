"""The conformance suite on realistic samples: columns that are no feature (a date for --split=time, a note for
--keep) are legal; other names and types too; a weak but honest signal passes, a model that learns nothing fails."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.churn import Churn
from shared import conformance
from shared.contract.metrics import auc, log_loss
from shared.families.boosted import BoostedTreesModel


class Dated(Churn):
    """Churn, whose sample also holds a date, a timestamp, a free-text note and a count that are no feature."""

    name = "churn"

    def _make_sample(self, rows, rng):
        frame = Churn._make_sample(self, rows, rng)
        days = rng.integers(0, 365, rows)
        frame.insert(1, "signup_date", [dt.date(2025, 1, 1) + dt.timedelta(days=int(d)) for d in days])
        frame["updated_at"] = pd.Timestamp("2025-06-01") + pd.to_timedelta(days, unit="h")
        frame["note"] = [None if d % 7 == 0 else f"called {d % 5} times, said: 'maybe'" for d in days]
        frame["visits"] = rng.poisson(3, rows)
        return frame


COLUMN_CHECKS = [
    conformance.check_sample_is_seeded,
    conformance.check_scores_every_row,
    conformance.check_matches_columns_by_name,
    conformance.check_scoring_input_contract,
    conformance.check_rejects_missing_feature,
    conformance.check_held_out_rows_reproduce_train_metrics,
    conformance.check_streams_and_shards_like_whole_file,
]


@pytest.mark.parametrize("check", COLUMN_CHECKS, ids=lambda check: check.__name__.removeprefix("check_"))
def test_extra_columns_of_the_sample_are_legal(check, tmp_path):
    """A sample with columns the model does not use passes the checks that read columns; those are reported as
    ignored when scoring, with the one a check adds."""
    check(Dated, tmp_path)


NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True)
EXTRA_KINDS = {
    "date": lambda rng, n: [dt.date(2024, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 900, n)],
    "timestamp": lambda rng, n: pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**6, n), unit="s"),
    "text": lambda rng, n: [f"free text {i}, with commas" if i % 5 else None for i in rng.integers(0, 50, n)],
    "integer": lambda rng, n: rng.integers(-5, 5, n),
    "boolean": lambda rng, n: rng.random(n) < 0.5,
    "float": lambda rng, n: np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n)),
}


def generated_model(names, numeric_count, integer_features, extras):
    """A boosted classifier on columns of the given names (id, label, features, extra columns of the given
    kinds), whose sample holds a learnable signal in its first feature."""
    id_column, label, *rest = names
    numeric, categorical = tuple(rest[:numeric_count]), tuple(rest[numeric_count : numeric_count + 2])
    extra_names = rest[numeric_count + 2 :]

    def make_sample(self, rows, rng):
        columns = {id_column: [f"row-{i}" for i in rng.permutation(rows)]}
        for position, name in enumerate(numeric):
            values = rng.normal(size=rows) * 3
            columns[name] = values.round().astype("int64") if position in integer_features else values
        for name in categorical:
            columns[name] = rng.choice(["a", "b", "c"], rows)
        signal = np.asarray(columns[numeric[0]], dtype="float64") + 2.0 * (np.asarray(columns[categorical[0]]) == "a")
        columns[label] = (signal + rng.normal(size=rows) > 0.5).astype("int8")
        for name, kind in zip(extra_names, extras, strict=False):
            columns[name] = EXTRA_KINDS[kind](rng, rows)
        frame = pd.DataFrame(columns)
        return frame[list(rng.permutation(frame.columns))]  # the sample's column order is its own too

    body = {
        "__doc__": "Generated: a classifier on columns of other names and types.",
        "name": "churn",  # trains without a compiled library here, as conftest sets for churn
        "id_column": id_column,
        "label": label,
        "numeric": numeric,
        "categorical": categorical,
        "prediction": "probability",
        "metrics": (auc, log_loss),
        "_make_sample": make_sample,
    }
    return type("Generated", (BoostedTreesModel,), body)


@settings(max_examples=5, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(
    names=st.lists(NAMES.filter(lambda n: n not in {"probability"}), min_size=7, max_size=9, unique=True),
    numeric_count=st.integers(1, 3),
    integer_features=st.sets(st.integers(0, 2)),
    extras=st.lists(st.sampled_from(sorted(EXTRA_KINDS)), min_size=2, max_size=4),
)
def test_other_names_and_types_pass_the_column_checks(tmp_path_factory, names, numeric_count, integer_features, extras):
    """Generated: another id, label and feature names, integer or float features, and extra columns of any
    type; the checks that read columns hold, and the ignored columns are exactly the extra ones."""
    model_cls = generated_model(names, numeric_count, integer_features, extras)
    for check in (
        conformance.check_sample_is_seeded,
        conformance.check_matches_columns_by_name,
        conformance.check_scoring_input_contract,
        conformance.check_rejects_missing_feature,
    ):
        check(model_cls, tmp_path_factory.mktemp(check.__name__))


def relabelled(name, strength):
    """Churn whose label follows its support tickets with the given strength (0: a label of pure noise)."""

    def make_sample(self, rows, rng):
        frame = Churn._make_sample(self, rows, rng)
        logit = strength * (frame["support_tickets_90d"] - 0.8) + rng.normal(0, 1, rows)
        return frame.assign(churned=(logit > 0.8).astype("int8"))

    body = {"__doc__": f"Churn, {name}.", "name": "churn", "_make_sample": make_sample}
    return type("Churn", (Churn,), body)


def test_a_weak_but_honest_sample_learns(tmp_path):
    """A signal too weak for a fixed AUC threshold of 0.65 is still clearly above what its rows give by chance."""
    weak = relabelled("weak but honest", 0.3)
    conformance.check_learns_its_sample(weak, tmp_path / "check")
    assert weak(store=str(tmp_path / "store")).train()["metrics"]["auc"] < 0.65


def test_a_model_that_learns_nothing_fails(tmp_path):
    """A label of pure noise: the predictions score no better than the same predictions shuffled."""
    with pytest.raises(AssertionError, match="learned nothing"):
        conformance.check_learns_its_sample(relabelled("noise", 0.0), tmp_path)
