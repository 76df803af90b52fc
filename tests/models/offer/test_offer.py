"""Multiclass models end to end, on real public tables nobody here made (scikit-learn's copies of UCI's iris and
handwritten digits), through the Python API and the command line as a user runs them."""

import json

import lightgbm
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits, load_iris

from models.offer import Offer
from shared.contract import metrics
from shared.families.boosted import BoostedTreesModel
from shared.training.split import random_split

MEASURES = (metrics.multi_log_loss, metrics.accuracy, metrics.macro_f1, metrics.auc_ovr)


def iris_table() -> pd.DataFrame:
    """150 flowers, 4 measurements, the species as text."""
    iris = load_iris(as_frame=True)
    frame = iris.frame.rename(columns=lambda c: c.replace(" (cm)", "").replace(" ", "_"))
    frame["species"] = iris.target_names[frame.pop("target")]
    frame.insert(0, "flower_id", [f"F{i:03d}" for i in range(len(frame))])
    return frame


def digits_table() -> pd.DataFrame:
    """1,797 handwritten digits: 64 pixel counts (a wide table), the digit 0-9 as a whole number."""
    digits = load_digits(as_frame=True)
    frame = digits.frame.rename(columns={"target": "digit"})
    frame.insert(0, "image_id", np.arange(len(frame)) * 7 + 3)
    return frame


class Iris(BoostedTreesModel):
    """Iris: which of three species a flower is."""

    objective = "multiclass"
    classes = ("virginica", "setosa", "versicolor")  # not alphabetical: the declared order is the columns' order
    label = "species"
    id_column = "flower_id"
    numeric = ("sepal_length", "sepal_width", "petal_length", "petal_width")
    prediction = "species_predicted"
    metrics = MEASURES


class Digit(BoostedTreesModel):
    """Digit: which of ten digits an 8x8 image shows."""

    objective = "multiclass"
    classes = tuple(range(10))
    label = "digit"
    id_column = "image_id"
    numeric = tuple(f"pixel_{row}_{col}" for row in range(8) for col in range(8))
    prediction = "digit_predicted"
    metrics = MEASURES


@pytest.fixture(scope="module")
def iris_parquet(tmp_path_factory):
    path = tmp_path_factory.mktemp("iris") / "iris.parquet"
    iris_table().to_parquet(path, index=False)
    return path


def test_the_probabilities_are_a_hand_written_lightgbm_multiclass_bit_for_bit(iris_parquet, tmp_path):
    """Trained on the same fit rows with the same settings, LightGBM itself gives exactly the stored version's
    probabilities, column k being the k-th declared class."""
    model = Iris(store=str(tmp_path / "store"))
    trained = model.train(str(iris_parquet), n_estimators=40, min_child_samples=5, subsample=1.0)
    frame = iris_table()
    split = random_split(len(frame), 0.2, 0)
    codes = frame["species"].map({c: k for k, c in enumerate(Iris.classes)}).to_numpy(dtype="float64")
    features = frame[list(Iris.numeric)].to_numpy(dtype="float64")
    params = {
        "objective": "multiclass", "num_class": 3, "learning_rate": 0.05, "num_leaves": 31, "min_data_in_leaf": 5,
        "feature_fraction": 0.8, "bagging_fraction": 1.0, "bagging_freq": 0, "seed": 0, "num_threads": 1,
        "deterministic": True, "force_col_wise": True, "verbose": -1,
    }  # fmt: skip
    dataset = lightgbm.Dataset(features[split.fit], label=codes[split.fit], params={"verbose": -1})
    by_hand = lightgbm.train(params, dataset, num_boost_round=40).predict(features[split.valid])
    scored = model.score(frame.iloc[split.valid].drop(columns=["species"]))["predictions"]
    ours = scored[[f"probability_{c}" for c in Iris.classes]].to_numpy()
    assert np.array_equal(ours, by_hand)
    chosen = np.asarray(Iris.classes)[by_hand.argmax(axis=1)]
    assert scored["species_predicted"].tolist() == chosen.tolist()
    truth = codes[split.valid].astype("int64")
    assert trained["metrics"]["accuracy"] == float((by_hand.argmax(axis=1) == truth).mean())
    assert trained["metrics"]["multi_log_loss"] == pytest.approx(metrics.multi_log_loss(truth, by_hand), abs=0)


def test_a_wide_table_of_whole_number_classes_trains_evaluates_and_scores_in_shards(tmp_path):
    """Digits: evaluate on the held-out rows gives train's metrics exactly; four shards of a streamed file union
    to the unsharded output, byte for byte in every column; the predicted digit is a whole number."""
    table = digits_table()
    table.columns = ["image_id", *Digit.numeric, "digit"]
    source = tmp_path / "digits.parquet"
    table.to_parquet(source, index=False, row_group_size=200)
    model = Digit(store=str(tmp_path / "store"))
    held = tmp_path / "held-out.parquet"
    trained = model.train(str(source), n_estimators=30, holdout_output=str(held))
    assert trained["metrics"]["accuracy"] > 0.9  # a real signal, learnt
    assert model.evaluate(str(held))["metrics"] == trained["metrics"]
    scoring = tmp_path / "unlabelled.parquet"
    table.drop(columns=["digit"]).to_parquet(scoring, index=False, row_group_size=150)
    whole = tmp_path / "whole.parquet"
    result = model.score(str(scoring), output=str(whole), batch_rows=100)
    assert result["drift"]["status"] == "ok"
    for shard in range(4):
        model.score(str(scoring), output=str(tmp_path / "parts"), shard=f"{shard}/4")
    union = pd.concat([pd.read_parquet(tmp_path / "parts" / f"part-{k:05d}-of-00004.parquet") for k in range(4)])
    written = pd.read_parquet(whole)
    assert union.reset_index(drop=True).equals(written)
    assert list(written.columns) == ["image_id", "digit_predicted", *(f"probability_{d}" for d in range(10))]
    assert written["digit_predicted"].dtype == "int64"
    assert np.allclose(written[[f"probability_{d}" for d in range(10)]].sum(axis=1), 1.0)


@pytest.fixture(scope="module")
def offer_store(tmp_path_factory):
    """A store with one small offer version (the embedded sample), trained through the Python API."""
    store = tmp_path_factory.mktemp("offer") / "store"
    Offer(store=str(store)).train(n_estimators=20, run_id="first")
    return store


def test_describe_names_the_classes_and_the_columns_a_scored_row_gets(offer_store, modelfleet):
    done = modelfleet(["offer", "describe", f"--store={offer_store}"])
    assert done.returncode == 0, done.stderr
    described = json.loads(done.stdout)
    assert described["classes"] == list(Offer.classes)
    assert described["outputs"] == ["offer", *(f"probability_{c}" for c in Offer.classes)]


def test_the_compiled_engine_gives_lightgbms_probabilities_and_the_same_file(iris_parquet, tmp_path):
    """A multiclass version's compiled library (built at train, checked on the held-out rows and on every split
    threshold) writes a file byte for byte the LightGBM engine's, probabilities and predicted class alike."""
    model = Iris(store=str(tmp_path / "store"))
    trained = model.train(str(iris_parquet), n_estimators=40, min_child_samples=5, compile="on")
    assert trained["compiled"]["engine"] == "tl2cgen"
    unlabelled = tmp_path / "unlabelled.parquet"
    iris_table().drop(columns=["species"]).to_parquet(unlabelled, index=False)
    written = {}
    for engine in ("lightgbm", "compiled"):
        done = model.score(str(unlabelled), output=str(tmp_path / f"{engine}.parquet"), engine=engine)
        assert done["engine"] == engine
        written[engine] = (tmp_path / f"{engine}.parquet").read_bytes()
    assert written["compiled"] == written["lightgbm"]


def test_a_class_the_version_never_learnt_in_data_to_evaluate_is_refused_naming_it(offer_store, modelfleet, tmp_path):
    frame = Offer()._sample_frame(300, 5)
    frame.loc[[3, 7], "accepted_offer"] = "cashback"
    frame.to_parquet(tmp_path / "labelled.parquet")
    done = modelfleet(["offer", "evaluate", f"--data={tmp_path / 'labelled.parquet'}", f"--store={offer_store}"])
    assert done.returncode == 65, done.stderr
    assert "2 row(s) of a class the model does not declare ('cashback')" in done.stderr


def test_a_version_trained_for_other_classes_is_refused_at_load(offer_store):
    """A model whose classes changed (or moved) cannot score what an older version's columns meant."""

    class Reordered(Offer):
        """Offer with two classes swapped."""

        name = "offer"
        classes = ("discount", "none", "upgrade", "bundle")

    with pytest.raises(
        Exception, match=r"was trained with classes \['none', 'discount', 'upgrade', 'bundle'\]"
    ) as caught:
        Reordered(store=str(offer_store)).score(Offer()._sample_frame(50, 3), version="first")
    assert caught.value.exit_code == 3


def test_drift_counts_the_predicted_class_and_its_page_names_the_classes(offer_store, tmp_path):
    """The profile counts each predicted class; a sharded run's drift page names them, never "segment 0"."""
    model = Offer(store=str(offer_store))
    rows = tmp_path / "rows.parquet"
    Offer()._sample_frame(1500, 9).drop(columns=["accepted_offer"]).to_parquet(rows)
    for shard in range(2):
        model.score(str(rows), output=str(tmp_path / "parts"), shard=f"{shard}/2", version="first")
    model.drift(output=str(tmp_path / "parts"))
    page = (tmp_path / "parts" / "_drift" / "report.html").read_text()
    assert all(f"{name}, this run" in page for name in Offer.classes)
    assert "segment 0" not in page


class Grade(BoostedTreesModel):
    """Grade: a label of digits written as text, as a CSV holds "1", "2", "3"."""

    objective = "multiclass"
    classes = ("3", "1", "2")
    label = "grade"
    id_column = None
    numeric = ("score",)
    metrics = MEASURES


def test_text_classes_written_as_digits_train_and_evaluate_from_a_csv(tmp_path):
    """A CSV reader would make "1" the number 1, which no text class equals: the label of text classes is read
    as text, in training and in data to evaluate alike."""
    rng = np.random.default_rng(3)
    score = rng.normal(size=600)
    grade = np.where(score > 0.5, "1", np.where(score < -0.5, "3", "2"))
    path = tmp_path / "grades.csv"
    pd.DataFrame({"score": score.round(3), "grade": grade}).to_csv(path, index=False)
    model = Grade(store=str(tmp_path / "store"))
    held = tmp_path / "held-out.csv"
    trained = model.train(str(path), n_estimators=10, holdout_output=str(held))
    assert trained["metrics"]["accuracy"] > 0.8
    assert model.evaluate(str(held))["metrics"] == trained["metrics"]
