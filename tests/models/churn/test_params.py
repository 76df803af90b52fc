"""Each boosted-trees hyperparameter changes the model the way it says: observed in the stored model file."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.churn import Churn
from shared.storage import artifacts

BASE = {"n_estimators": 30, "num_threads": 1, "learning_rate": 0.2}


def _nodes(node):
    if "split_index" not in node:
        return []
    return [node, *_nodes(node["left_child"]), *_nodes(node["right_child"])]


def _depth(node):
    return 0 if "split_index" not in node else 1 + max(_depth(node["left_child"]), _depth(node["right_child"]))


@pytest.fixture(scope="module")
def fit(tmp_path_factory):
    """Train churn with ``changes`` on one fixed sample; return its stored booster and predictions."""
    frame = Churn()._sample_frame(3000, 21)
    scoring = Churn()._sample_frame(500, 22).drop(columns="churned")
    root = tmp_path_factory.mktemp("params")
    runs = iter(range(1000))

    def train(data=None, **changes):
        model = Churn(store=str(root / f"store-{next(runs)}"))
        model.train(frame if data is None else data, **BASE, **changes)
        booster = artifacts.load(model, "latest").fitted
        trees = [tree["tree_structure"] for tree in booster.dump_model()["tree_info"]]
        predicted = model.score(scoring)["predictions"]["churn_probability"] if data is None else None
        return booster, trees, predicted

    return train


def test_max_depth_bounds_every_tree(fit):
    _, default, _ = fit()
    _, shallow, _ = fit(max_depth=2)
    assert max(map(_depth, default)) > 2
    assert max(map(_depth, shallow)) <= 2


def test_min_split_gain_prunes_splits(fit):
    _, default, _ = fit()
    _, pruned, _ = fit(min_split_gain=5.0)
    assert sum(len(_nodes(t)) for t in pruned) < sum(len(_nodes(t)) for t in default)


def test_reg_alpha_shrinks_leaves(fit):
    def mass(trees):
        leaves = []
        for tree in trees:
            stack = [tree]
            while stack:
                node = stack.pop()
                if "split_index" in node:
                    stack += [node["left_child"], node["right_child"]]
                else:
                    leaves.append(abs(node["leaf_value"]))
        return sum(leaves)

    _, default, _ = fit()
    _, shrunk, _ = fit(reg_alpha=50.0)
    assert mass(shrunk) < mass(default)


def test_max_bin_limits_the_thresholds_of_each_numeric_feature(fit):
    booster, coarse, _ = fit(max_bin=4)
    names = booster.feature_name()
    for position, name in enumerate(names):
        if name in Churn.numeric:
            thresholds = {n["threshold"] for t in coarse for n in _nodes(t) if n["split_feature"] == position}
            assert len(thresholds) <= 3, (name, thresholds)


def test_min_data_per_group_can_forbid_categorical_splits(fit):
    """On a categorical feature of many levels (LightGBM splits one of at most four levels one-vs-rest, where
    groups do not apply)."""

    def region_splits(booster, trees):
        region = booster.feature_name().index("region")
        return sum(n["split_feature"] == region for t in trees for n in _nodes(t))

    frame = Churn()._sample_frame(3000, 21)
    frame["region"] = [f"r{(i * 7) % 13}" for i in range(len(frame))]
    frame.loc[frame["region"].isin(["r1", "r2", "r3"]), "churned"] = 1  # a signal in the many levels
    booster, default, _ = fit(frame)
    _, none, _ = fit(frame, min_data_per_group=100_000)
    assert region_splits(booster, default) > 0
    assert region_splits(booster, none) == 0


def test_cat_smooth_changes_the_model(fit):
    _, _, default = fit()
    _, _, smoothed = fit(cat_smooth=1e6)
    assert not default.equals(smoothed)


@pytest.mark.parametrize("weighting", [{"scale_pos_weight": 5.0}, {"is_unbalance": True}])
def test_weighting_the_rare_class_raises_its_probabilities(fit, weighting):
    _, _, default = fit()
    _, _, weighted = fit(**weighting)
    assert weighted.mean() > default.mean() + 0.05


@pytest.mark.parametrize("dry", [False, True])
def test_weights_that_do_not_go_together_are_refused_before_any_work(modelfleet, tmp_path, dry):
    args = ["churn", "train", f"--store={tmp_path / 's'}", "--scale_pos_weight=3", "--is_unbalance"]
    done = modelfleet([*args, "--n_estimators=5", *["--dry_run"] * dry])
    assert done.returncode == 64, done.stderr
    assert "--scale_pos_weight and --is_unbalance both weigh the classes" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_what_lightgbm_refuses_exits_64_naming_the_flag(monkeypatch, tmp_path):
    """LightGBM names its own parameter; the message names the flag that sets it."""
    import lightgbm

    from shared.errors import BadArgument

    def refuse(*args, **kwargs):
        raise lightgbm.basic.LightGBMError("Check failed: (lambda_l1) >= (0.0)")

    monkeypatch.setattr(lightgbm, "train", refuse)
    with pytest.raises(BadArgument, match=r"^--reg_alpha: LightGBM cannot train"):
        Churn(store=str(tmp_path / "s")).train(reg_alpha=1.0, n_estimators=5)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(subsample=st.floats(1e-12, 1 / 4000, exclude_max=True))
def test_a_subsample_of_no_row_exits_64_naming_the_flag_in_one_line(modelfleet, tmp_path, subsample):
    """A --subsample that samples no fit row (4000 of the sample's 5000 rows are fit on) is refused before LightGBM
    runs, so that its own '[Fatal]' line never reaches stderr beside the one-line error."""
    done = modelfleet(["churn", "train", f"--store={tmp_path / 's'}", f"--subsample={subsample!r}", "--n_estimators=3"])
    assert done.returncode == 64, done.stderr
    errors = [line for line in done.stderr.splitlines() if not line[:4].isdigit()]  # log lines start with the date
    assert errors == [
        f"modelfleet: error: --subsample={subsample:g} samples no row of the 4000 fit rows for a tree; "
        "give at least 0.00025 (one row), or 1 for every row"
    ]
    assert "LightGBM" not in done.stderr


def test_a_subsample_of_one_row_reaches_lightgbm(tmp_path):
    """The smallest --subsample that samples a row (1 of 400 fit rows) is no refusal of the flag: LightGBM trains
    on one row a tree, which teaches nothing, and that is what is refused."""
    from shared.errors import BadData

    model = Churn(store=str(tmp_path / "s"))
    with pytest.raises(BadData, match="learned nothing"):
        model.train(model._sample_frame(500, 1), subsample=1 / 400 + 1e-12, n_estimators=3, min_child_samples=1)
