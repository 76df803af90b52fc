"""A stored churn version reads the columns it was trained on: checked against its own model file, end to end."""

import hashlib
import json
import shutil
from dataclasses import dataclass
from typing import ClassVar

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.churn import Churn
from shared.contract.params import param
from shared.errors import ModelDefinitionError
from shared.families.boosted import BinaryParams, BoostedTreesModel

FEATURES = [*Churn.numeric, *Churn.categorical]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A churn version trained on a file of 5000 sample rows, with its held-out rows written out."""
    folder = tmp_path_factory.mktemp("trained")
    Churn()._sample_frame(5000, 0).to_parquet(folder / "train.parquet", index=False)
    model = Churn(store=str(folder / "store"))
    result = model.train(str(folder / "train.parquet"), run_id="v1", holdout_output=str(folder / "held.parquet"))
    return folder, result


@pytest.fixture
def store(trained, tmp_path):
    """A private copy of the trained store, for tests that tamper with it; returns its manifest path."""
    shutil.copytree(trained[0] / "store", tmp_path / "store")
    return tmp_path / "store" / "churn" / "versions" / "v1" / "manifest.json"


def test_a_version_on_its_own_training_file_beats_its_held_out_auc(trained, modelfleet):
    """Mostly in-sample rows score far better than held-out ones: the stored model reads the right columns."""
    folder, result = trained
    done = modelfleet(["churn", "evaluate", f"--data={folder / 'train.parquet'}", f"--store={folder / 'store'}"])
    code, err = done.returncode, done.stderr
    evaluated = json.loads(done.stdout) if done.stdout.strip() else None
    assert code == 0, err
    assert evaluated["metrics"]["auc"] > result["metrics"]["auc"] + 0.08, (evaluated["metrics"], result["metrics"])
    done = modelfleet(["churn", "evaluate", f"--data={folder / 'held.parquet'}", f"--store={folder / 'store'}"])
    code, err = done.returncode, done.stderr
    held = json.loads(done.stdout) if done.stdout.strip() else None
    assert code == 0, err
    assert held["metrics"] == pytest.approx(result["metrics"], rel=1e-9, abs=1e-9)
    assert held["rows"] == result["rows"]["valid"] == result["split"]["rows"]["valid"] == 1000


def test_the_split_is_recorded_and_separate_from_the_model_seed(tmp_path):
    """The held-out rows depend on split_seed only: another model seed holds out the same rows."""
    model = Churn(store=str(tmp_path / "store"))
    frame = Churn()._sample_frame(600, 0)
    rows = {}
    for seed, split_seed in ((0, 0), (5, 0), (0, 9)):
        out = tmp_path / f"held-{seed}-{split_seed}.parquet"
        result = model.train(frame, seed=seed, split_seed=split_seed, n_estimators=5, holdout_output=str(out))
        assert result["split"] == {
            "method": "random",
            "seed": split_seed,
            "valid_fraction": 0.2,
            "rows": result["split"]["rows"],
        }
        rows[seed, split_seed] = sorted(pd.read_parquet(out)["customer_id"])
    assert rows[0, 0] == rows[5, 0], "the model's seed moved the held-out rows"
    assert rows[0, 0] != rows[0, 9], "split_seed did not move the held-out rows"


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(FEATURES).filter(lambda order: list(order) != FEATURES))
def test_a_manifest_in_another_order_exits_3_naming_both_orders(store, modelfleet, order):
    """A manifest whose feature list is in another order than the model file's is refused, not scored."""
    manifest = json.loads(store.read_text())
    by_name = {feature["name"]: feature for feature in manifest["features"]}
    manifest["features"] = [by_name[name] for name in order]
    store.write_text(json.dumps(manifest))
    done = modelfleet(["churn", "score", f"--store={store.parents[3]}"])
    code, err = done.returncode, done.stderr
    result = json.loads(done.stdout) if done.stdout.strip() else None
    assert code == 3, err
    assert result is None
    assert str(FEATURES) in err, "the message names the model file's order"
    assert str(list(order)) in err, "the message names the manifest's order"


@pytest.mark.parametrize(
    "edit",
    [
        lambda f: f[:-1],  # a feature dropped
        lambda f: [*f, {"name": "extra", "kind": "numeric"}],  # a feature added
        lambda f: [{**f[0], "name": "tenure"}, *f[1:]],  # a feature renamed
        lambda f: [*f[:5], {"name": f[5]["name"], "kind": "numeric"}, *f[6:]],  # a categorical made numeric
        lambda f: [*f[:5], {**f[5], "levels": f[5]["levels"][::-1]}, *f[6:]],  # its levels in another order
        lambda f: [*f[:5], {**f[5], "levels": [*f[5]["levels"], "gold"]}, *f[6:]],  # a level added
    ],
    ids=["dropped", "added", "renamed", "kind", "levels-reordered", "level-added"],
)
def test_a_manifest_with_other_features_exits_3(store, modelfleet, edit):
    """Names, count and kinds must match the model file too."""
    manifest = json.loads(store.read_text())
    manifest["features"] = edit(manifest["features"])
    store.write_text(json.dumps(manifest))
    done = modelfleet(["churn", "score", f"--store={store.parents[3]}"])
    code, err = done.returncode, done.stderr
    assert code == 3, err
    assert "the manifest does not describe this model file" in err


def test_a_foreign_model_file_with_a_matching_sha256_exits_3(store, tmp_path, modelfleet):
    """A model file trained on other columns, swapped in with its size and sha256 written into the manifest."""

    class Foreign(BoostedTreesModel):
        """Another LightGBM model, with the churn label but other feature columns."""

        name = "churn"
        label = "churned"
        numeric = ("tenure_months", "monthly_spend", "logins_30d")
        categorical = ("region",)

        def _make_sample(self, rows, rng):
            return Churn()._make_sample(rows, rng)

    other = Foreign(store=str(tmp_path / "other"))
    version = other.train(n_estimators=5)["version"]
    foreign = next((tmp_path / "other" / "churn" / "versions" / version).glob("*/model.txt")).read_bytes()
    manifest = json.loads(store.read_text())
    entry = manifest["files"][0]
    (store.parent / entry["path"]).write_bytes(foreign)
    entry.update(size=len(foreign), sha256=hashlib.sha256(foreign).hexdigest())
    store.write_text(json.dumps(manifest))
    done = modelfleet(["churn", "score", f"--store={store.parents[3]}"])
    code, err = done.returncode, done.stderr
    assert code == 3, err
    assert "['tenure_months', 'monthly_spend', 'logins_30d', 'region']" in err


def test_the_held_out_rows_never_overwrite_the_input(tmp_path, modelfleet):
    """--holdout_output naming the training data is refused before any work, and the input is unchanged."""
    data = tmp_path / "a.parquet"
    Churn()._sample_frame(300, 0).to_parquet(data, index=False)
    before = data.read_bytes()
    for target in (data, tmp_path / "." / "a.parquet"):
        done = modelfleet(
            ["churn", "train", f"--data={data}", f"--holdout_output={target}", f"--store={tmp_path / 's'}"]
        )
        code, err = done.returncode, done.stderr
        assert code == 64, err
        assert "lies inside, the input" in err
    assert data.read_bytes() == before
    assert not (tmp_path / "s").exists()


def test_a_hyperparameter_that_never_reaches_the_estimator_refuses_the_class():
    """Declaring a Params field the family does not know, without mapping it to LightGBM, fails when the class
    is defined (the family maps the fields it knows by itself)."""

    @dataclass(frozen=True)
    class WithExtraTrees(BinaryParams):
        extra_trees: bool = param(False, "Pick split thresholds at random.")

    with pytest.raises(ModelDefinitionError, match=r"\['extra_trees'\] never reach the estimator"):

        class Extra(Churn):
            """Churn with a setting that is never passed on."""

            Params = WithExtraTrees

    class Mapped(Churn):
        """Churn with a setting that reaches LightGBM."""

        Params = WithExtraTrees
        estimator_params: ClassVar[dict[str, str]] = {**Churn.estimator_params, "extra_trees": "extra_trees"}

    assert Mapped.estimator_params["extra_trees"] == "extra_trees"
