"""The gate of ``train --promote``: seeded simulations of scheduled retrains, and its contract on the command line.

The simulations train real churn versions on fresh draws of one distribution (the embedded sample's generator,
each seed a new "day"), so what they measure is the gate as a DAG meets it: the noise of new rows, new held-out
rows and a new model each time. They count verdicts, never time.
"""

import json

import numpy as np
import pytest

from models.churn import Churn
from shared.errors import NotPromoted
from shared.storage import aliases
from shared.storage.store import Store

ROWS, RETRAINS = 3000, 100


def _draw(model, seed, rows=ROWS):
    return model._make_sample(rows, np.random.default_rng(seed))


def _verdicts(model, frames, **gate):
    """Train a candidate on each frame, judged against the champion; the champion never moves (the candidates
    take another alias). Returns whether each was promoted."""
    promoted = []
    for i, frame in enumerate(frames):
        try:
            result = model.train(frame, run_id=f"sim-{i}", promote="candidate", split_seed=i, **gate)
        except NotPromoted as exc:
            result = exc.result
        assert result["gate"]["against"]["version"] == "champ", "the gate measured another version than the holder"
        promoted.append(result["gate"]["passed"])
    return np.array(promoted)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    model = Churn(store=str(tmp_path_factory.mktemp("gate") / "store"))
    model.train(_draw(model, 10_000), run_id="champ", promote="champion")
    return model


def test_a_retrain_as_good_as_the_champion_is_refused_by_chance_at_most_5_percent(fleet):
    """Same distribution, same size, same settings: only chance tells the two apart, and the gate refuses
    only when the whole 95% interval says worse, so refusals stay rare (about 2.5% expected)."""
    promoted = _verdicts(fleet, (_draw(fleet, seed) for seed in range(RETRAINS)), against="champion")
    assert (~promoted).mean() <= 0.05, f"{(~promoted).sum()} of {RETRAINS} equal retrains were refused"


def test_a_retrain_against_a_clearly_better_champion_is_promoted_at_most_5_percent(tmp_path):
    """A champion fit on ten times the rows, against retrains that can only split on one feature at a time (a
    config change that broke the model): about 0.09 AUC worse, which 600 held-out rows resolve."""
    model = Churn(store=str(tmp_path / "store"))
    model.train(_draw(model, 20_000, rows=30_000), run_id="champ", promote="champion")
    frames = (_draw(model, seed) for seed in range(40))
    promoted = _verdicts(model, frames, against="champion", n_estimators=3, num_leaves=2)
    assert promoted.mean() <= 0.05, f"{promoted.sum()} of 40 worse retrains were promoted"


def test_a_model_that_learned_nothing_is_never_promoted(fleet, tmp_path):
    """Labels shuffled in the training partition (a broken join), measured on good held-out rows: refused by the
    comparison every time; and when the held-out rows are broken too, the absolute gate refuses it."""
    frames, valid = [], []
    for seed in range(20):
        frame = _draw(fleet, 500 + seed)
        frame["churned"] = np.random.default_rng(seed).permutation(frame["churned"].to_numpy())
        frames.append(frame)
        valid.append(tmp_path / f"valid-{seed}.parquet")
        _draw(fleet, 900 + seed, rows=1000).to_parquet(valid[-1])
    promoted = []
    for i, (frame, held) in enumerate(zip(frames, valid, strict=True)):
        try:
            fleet.train(frame, run_id=f"noise-{i}", promote="candidate", against="champion", valid_data=str(held))
            promoted.append(True)
        except NotPromoted:
            promoted.append(False)
    assert not any(promoted), f"{sum(promoted)} of 20 models trained on shuffled labels were promoted"
    for i, frame in enumerate(frames[:5]):
        with pytest.raises(NotPromoted, match=r"auc is 0\.\d+ on the held-out rows, and --gate wants auc>=0\.7"):
            fleet.train(frame, run_id=f"broken-{i}", promote="candidate", against="champion", gate="auc>=0.7")


FAST = ["--n_estimators=20", "--num_threads=1"]


def test_a_refused_version_exits_100_with_the_verdict_and_the_old_champion_stays(modelfleet, tmp_path):
    store = tmp_path / "store"
    model = Churn(store=str(store))
    model.train(_draw(model, 1), run_id="good", promote="champion")
    _draw(model, 2).to_parquet(tmp_path / "day.parquet")
    args = ["churn", "train", "--data=day.parquet", "--run_id=weak", "--promote=champion", "--against=champion"]
    args += [f"--store={store}", "--n_estimators=1", "--num_leaves=2"]
    result_file = tmp_path / "result.json"
    runs = []
    for _ in range(2):
        done = modelfleet(args, cwd=tmp_path, env={"MODELFLEET_RESULT_PATH": str(result_file)})
        runs.append(done)
        assert done.returncode == 100, done.stderr
        (line,) = [line for line in done.stderr.splitlines() if line.startswith("modelfleet:")]
        assert line.startswith("modelfleet: error: churn version weak was committed but not promoted to champion: ")
        assert "worse by more than --tolerance=0" in line
        printed = json.loads(done.stdout)
        assert printed == json.loads(result_file.read_text())
        assert (printed["version"], printed["exit_code"], printed["promoted"]) == ("weak", 100, None)
        assert printed["gate"]["against"]["interval"][1] < 0
    assert json.loads(runs[0].stdout)["gate"] == json.loads(runs[1].stdout)["gate"]
    assert json.loads(runs[1].stdout)["already_committed"] is True
    history = aliases.history(Store(str(store)), "churn", "champion")
    assert [event["version"] for event in history] == ["good"]
    scored = modelfleet(["churn", "score", "--version=champion", f"--store={store}"], cwd=tmp_path)
    assert json.loads(scored.stdout)["version"] == "good"


def test_a_promoted_version_records_its_verdict_in_the_alias_event(modelfleet, tmp_path):
    store = tmp_path / "store"
    args = ["churn", "train", "--run_id=v1", "--promote=champion", "--gate=auc>=0.6,log_loss<0.9", f"--store={store}"]
    done = modelfleet([*args, *FAST], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["promoted"]["version"] == "v1"
    assert [c["condition"] for c in result["gate"]["conditions"]] == ["auc>=0.6", "log_loss<0.9"]
    (event,) = aliases.history(Store(str(store)), "churn", "champion")
    assert event["gate"] == result["gate"]
    assert event["reason"].startswith("train --promote: gate passed: auc>=0.6 (0.")
    assert event["run_id"] == "v1"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--gate=auc>=0.7"], "--gate decides a promotion: give --promote=ALIAS too"),
        (["--against=champion"], "--against decides a promotion: give --promote=ALIAS too"),
        (["--promote=champion", "--gate=roc>=0.7"], "churn has no metric 'roc'; its metrics are auc, log_loss"),
        (["--promote=champion", "--gate=auc=>0.7"], "--gate must be conditions like auc>=0.75"),
        (["--promote=champion", "--against=champion", "--against_metric=f1"], "churn has no metric 'f1'"),
        (["--promote=latest"], "--promote must not be 'latest'"),
        (["--promote=champion", "--tolerance=-0.1"], "--tolerance"),
        (["--promote=champion", "--resamples=10"], "--resamples"),
        (["--promote=champion", "--against=nosuch-version-id"], "nosuch-version-id"),
    ],
)
def test_bad_gate_flags_are_refused_before_training_with_one_line(modelfleet, tmp_path, flags, message):
    store = tmp_path / "store"
    Churn(store=str(store)).train(run_id="v1", n_estimators=5)
    done = modelfleet(["churn", "train", "--run_id=v2", f"--store={store}", *flags, *FAST], cwd=tmp_path)
    assert done.returncode in (2, 64, 66), done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert message in line
    assert not Store(str(store)).exists("churn", "v2")


def test_a_retry_with_other_gate_flags_is_refused(modelfleet, tmp_path):
    store = tmp_path / "store"
    base = ["churn", "train", "--run_id=v1", f"--store={store}", *FAST]
    assert modelfleet([*base, "--promote=champion", "--gate=auc>=0.5"], cwd=tmp_path).returncode == 0
    done = modelfleet([*base, "--promote=champion", "--gate=auc>=0.9"], cwd=tmp_path)
    assert done.returncode == 64
    assert "was committed with --gate=auc>=0.5 --promote=champion; a retry of its --run_id must ask the same" in (
        done.stderr
    )


def test_a_champion_moved_while_the_gate_measured_is_not_overwritten(tmp_path, monkeypatch):
    """--against=champion promotes with a compare-and-set on the version it measured: a promotion that came in
    between wins, and this one is refused (100) instead of silently replacing it."""
    from shared.training import promotion

    model = Churn(store=str(tmp_path / "store"))
    model.train(run_id="old", n_estimators=5, promote="champion")
    model.train(run_id="other", n_estimators=5)
    judge = promotion.judge

    def judge_then_someone_promotes(*args, **kwargs):
        verdict = judge(*args, **kwargs)
        model.promote(alias="champion", version="other", reason="by hand, meanwhile")
        return verdict

    monkeypatch.setattr(promotion, "judge", judge_then_someone_promotes)
    with pytest.raises(NotPromoted, match="the gate measured it against old, but champion was moved to other since"):
        model.train(run_id="new", n_estimators=30, promote="champion", against="champion", tolerance=1.0)
    assert aliases.current(Store(str(tmp_path / "store")), "churn", "champion")["version"] == "other"


def test_a_holder_trained_on_these_rows_with_another_split_is_refused(tmp_path):
    """Same data, another split: some held-out rows are rows the holder was fit on, and it would look better
    than it is. Refused (64), nothing committed; the same split (a fair comparison) is allowed."""
    from shared.errors import BadArgument

    model = Churn(store=str(tmp_path / "store"))
    frame = _draw(model, 1)
    model.train(frame, run_id="v1", promote="champion", n_estimators=20)
    with pytest.raises(BadArgument, match="trained on this same data with another split"):
        model.train(frame, run_id="v2", promote="champion", against="champion", split_seed=5, n_estimators=20)
    assert not Store(str(tmp_path / "store")).exists("churn", "v2")
    same_split = model.train(frame, run_id="v3", promote="champion", against="champion", n_estimators=30)
    assert same_split["gate"]["against"]["version"] == "v1"


def test_against_a_fixed_generation_is_no_compare_and_set(tmp_path):
    """--against=champion@1 compares with that event's version whatever champion says now; the move is then
    an ordinary one (a compare-and-set on generation 1's version would always fail once the alias moved on)."""
    model = Churn(store=str(tmp_path / "store"))
    model.train(_draw(model, 1), run_id="v1", promote="champion", n_estimators=20)
    model.train(_draw(model, 2), run_id="v2", promote="champion", n_estimators=20)
    result = model.train(_draw(model, 3), run_id="v3", promote="champion", against="champion@1", tolerance=1.0)
    assert result["gate"]["against"]["version"] == "v1"
    assert result["promoted"]["version"] == "v3"


def test_too_few_held_out_rows_to_compare_is_not_promoted(tmp_path):
    model = Churn(store=str(tmp_path / "store"))
    model.train(_draw(model, 1), run_id="v1", promote="champion", n_estimators=20)
    with pytest.raises(NotPromoted, match=r"only 60 held-out rows to compare with champion on: too few"):
        model.train(_draw(model, 2, rows=300), run_id="v2", promote="champion", against="champion")
    assert aliases.current(Store(str(tmp_path / "store")), "churn", "champion")["version"] == "v1"


COMPARISON_FLAGS = ["--tolerance=0.01", "--against_metric=log_loss", "--confidence=0.9", "--resamples=500"]


@pytest.mark.parametrize("flag", COMPARISON_FLAGS)
def test_comparison_flags_without_against_are_refused(modelfleet, tmp_path, flag):
    done = modelfleet(["churn", "train", "--promote=champion", flag, f"--store={tmp_path / 's'}", *FAST], cwd=tmp_path)
    assert done.returncode == 64
    assert "which is not given: give --against too" in done.stderr


def test_a_retry_may_spell_the_same_gate_another_way(tmp_path):
    model = Churn(store=str(tmp_path / "store"))
    first = model.train(run_id="v1", promote="champion", gate="auc>=0.6, log_loss < 0.9", n_estimators=20)
    again = model.train(run_id="v1", promote="champion", gate=" auc >= .60,log_loss<0.90", n_estimators=20)
    assert again["gate"] == first["gate"]
    assert again["promoted"]["already_recorded"]


@pytest.mark.parametrize("form", ["parquet", "csv"])
def test_a_holder_trained_on_this_file_with_another_split_is_refused_before_fitting(tmp_path, monkeypatch, form):
    """For a file, the refusal comes before any fitting (it used to come after the whole training): nothing is
    fitted, nothing committed; the same split still trains and compares."""
    from shared.errors import BadArgument
    from shared.training import fitting

    model = Churn(store=str(tmp_path / "store"))
    path = tmp_path / f"table.{form}"
    frame = _draw(model, 1)
    frame.to_parquet(path) if form == "parquet" else frame.to_csv(path, index=False)
    model.train(str(path), run_id="v1", promote="champion", n_estimators=20)
    fitted = []
    real = fitting.fit_held_out
    monkeypatch.setattr(fitting, "fit_held_out", lambda *a, **k: fitted.append(1) or real(*a, **k))
    with pytest.raises(BadArgument, match="trained on this same data with another split"):
        model.train(str(path), run_id="v2", promote="champion", against="champion", split_seed=5, n_estimators=20)
    assert fitted == []
    assert not Store(str(tmp_path / "store")).exists("churn", "v2")
    same_split = model.train(str(path), run_id="v3", promote="champion", against="champion", n_estimators=30)
    assert same_split["gate"]["against"]["version"] == "v1"
    assert fitted == [1]
