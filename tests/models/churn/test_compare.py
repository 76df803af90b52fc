"""compare: several versions on the same labelled rows; each version's numbers are what evaluate says."""

import json

import pytest

from models.churn import Churn


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    root = tmp_path_factory.mktemp("compare")
    model = Churn(store=str(root / "store"))
    model.train(run_id="small", n_estimators=3, num_leaves=2)
    model.train(run_id="big", n_estimators=60, promote="champion")
    model._sample_frame(2000, 11).to_parquet(root / "labelled.parquet")
    return model, root


def run(modelfleet, root, *args):
    done = modelfleet(["churn", "compare", f"--store={root / 'store'}", *args], cwd=root)
    return done, (json.loads(done.stdout) if done.returncode == 0 else None)


def test_each_version_measures_what_evaluate_measures_and_the_differences_are_paired(modelfleet, fleet):
    model, root = fleet
    done, result = run(modelfleet, root, "--data=labelled.parquet", "--versions=champion,small")
    assert done.returncode == 0, done.stderr
    assert [v["version"] for v in result["versions"]] == ["big", "small"]
    assert result["versions"][0]["as"] == "champion"
    assert result["versions"][0]["alias"]["generation"] == 1
    for measured in result["versions"]:
        evaluated = model.evaluate(str(root / "labelled.parquet"), version=measured["version"])
        assert measured["metrics"] == pytest.approx(evaluated["metrics"], rel=1e-12)
    by_metric = {d["metric"]: d for d in result["differences"]}
    assert list(by_metric) == ["auc", "log_loss", "precision_at_top_decile"]
    for name, difference in by_metric.items():
        assert (difference["version"], difference["against"]) == ("small", "big")
        assert difference["value"] == pytest.approx(result["versions"][1]["metrics"][name])
        assert difference["difference"] == pytest.approx(difference["value"] - difference["against_value"])
        low, high = difference["interval"]
        assert low <= difference["difference"] <= high
    assert by_metric["auc"]["interval"][1] < 0  # three stumps are clearly worse than sixty trees
    assert by_metric["log_loss"]["interval"][0] > 0


@pytest.mark.parametrize(
    ("versions", "code", "message"),
    [
        ("big", 64, "give at least two versions"),
        ("big,big", 64, "names 'big' twice"),
        ("big,nosuch", 66, "nosuch"),
        ("big,bad/../id", 64, "--versions"),
        ("big,never-set@2", 66, "never set"),
    ],
)
def test_bad_versions_are_refused_with_one_line(modelfleet, fleet, versions, code, message):
    _, root = fleet
    done, _ = run(modelfleet, root, f"--versions={versions}")
    assert done.returncode == code, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert message in line


def test_a_metric_undefined_on_the_rows_has_no_difference(modelfleet, fleet):
    model, root = fleet
    one_class = model._sample_frame(500, 3)
    one_class = one_class[one_class["churned"] == 0]
    one_class.to_parquet(root / "stayers.parquet")
    done, result = run(modelfleet, root, "--data=stayers.parquet", "--versions=big,small")
    assert done.returncode == 0, done.stderr
    auc = next(d for d in result["differences"] if d["metric"] == "auc")
    assert (auc["value"], auc["difference"]) == (None, None)
    log_loss = next(d for d in result["differences"] if d["metric"] == "log_loss")
    assert log_loss["difference"] is not None


def test_compare_and_evaluate_write_the_report_of_the_rows_they_measured(modelfleet, fleet, tmp_path):
    _, root = fleet
    done, result = run(
        modelfleet, root, "--data=labelled.parquet", "--versions=big,small", f"--report={tmp_path / 'c'}"
    )
    assert done.returncode == 0, done.stderr
    document = json.loads((tmp_path / "c" / "report.json").read_text())
    assert [document["version"], *[a["version"] for a in document["against"]]] == ["big", "small"]
    assert [document["metrics"], document["against"][0]["metrics"]] == [v["metrics"] for v in result["versions"]]
    assert result["report"]["html"] == str(tmp_path / "c" / "report.html")
    args = ["churn", "evaluate", f"--store={root / 'store'}", "--data=labelled.parquet", "--version=small"]
    evaluated = modelfleet([*args, f"--report={tmp_path / 'e'}"], cwd=root)
    assert evaluated.returncode == 0, evaluated.stderr
    document = json.loads((tmp_path / "e" / "report.json").read_text())
    assert (document["version"], document["against"]) == ("small", [])
    assert document["metrics"] == json.loads(evaluated.stdout)["metrics"]
