"""report through the command line: numbers that are no numbers are null, the report folder is checked before
any work, the champion overlay is left out when it cannot read the rows, and nothing is half-written."""

import json

import pytest

from models.churn import Churn


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    model = Churn(store=str(root / "store"))
    model.train(run_id="champ", n_estimators=5, promote="champion")
    model.train(model._sample_frame(5000, 1), run_id="new", n_estimators=5)
    model._sample_frame(800, 2).to_parquet(root / "labelled.parquet")
    return model, root


def _run(modelfleet, root, *args, env=None):
    return modelfleet(["churn", *args, f"--store={root / 'store'}"], cwd=root, env=env)


@pytest.mark.parametrize("command", ["report", "evaluate", "compare"])
def test_rows_of_one_class_give_null_numbers_not_a_crash(modelfleet, fleet, tmp_path, command):
    model, root = fleet
    frame = model._sample_frame(800, 3)
    frame[frame["churned"] == 0].to_parquet(tmp_path / "negatives.parquet")
    flag = "--output" if command == "report" else "--report"
    extra = ["--versions=new,champ"] if command == "compare" else ["--version=new"]
    done = _run(
        modelfleet, root, command, f"--data={tmp_path / 'negatives.parquet'}", *extra, f"{flag}={tmp_path / 'r'}"
    )
    assert done.returncode == 0, done.stderr
    document = json.loads((tmp_path / "r" / "report.json").read_text())
    assert document["metrics"]["auc"] is None


@pytest.mark.parametrize(
    "where",
    ["inside the store", "inside the input", "a file"],
)
def test_a_report_folder_that_would_break_something_is_refused_before_any_work(modelfleet, fleet, tmp_path, where):
    model, root = fleet
    data = tmp_path / "in"
    data.mkdir()
    model._sample_frame(300, 4).to_parquet(data / "rows.parquet")
    (tmp_path / "afile.txt").write_text("x")
    target = {
        "inside the store": root / "store" / "churn" / "aliases" / "champion",
        "inside the input": data / "rep",
        "a file": tmp_path / "afile.txt",
    }[where]
    before = sorted(str(p) for p in (root / "store").rglob("*"))
    for args in (["report", f"--output={target}"], ["evaluate", f"--report={target}"]):
        done = _run(modelfleet, root, *args, f"--data={data}", "--version=new")
        assert done.returncode == 64, (args, done.stderr)
    assert sorted(str(p) for p in (root / "store").rglob("*")) == before
    assert not (data / "rep").exists()


def test_a_result_file_in_the_report_folder_is_refused_before_the_report_is_written(modelfleet, fleet, tmp_path):
    _, root = fleet
    env = {"MODELFLEET_RESULT_PATH": str(tmp_path / "r" / "report.json")}
    done = _run(modelfleet, root, "evaluate", "--data=labelled.parquet", f"--report={tmp_path / 'r'}", env=env)
    assert done.returncode == 64, done.stderr
    assert not (tmp_path / "r").exists()


def test_the_champion_is_overlaid_unless_it_cannot_read_the_rows_or_none_is_asked(modelfleet, fleet, tmp_path):
    model, root = fleet
    done = _run(modelfleet, root, "report", "--data=labelled.parquet", "--version=new", f"--output={tmp_path / 'a'}")
    assert json.loads(done.stdout)["against"] == "champ"
    done = _run(
        modelfleet,
        root,
        "report",
        "--data=labelled.parquet",
        "--version=new",
        "--against=none",
        f"--output={tmp_path / 'b'}",
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["against"] is None
    gold = model._sample_frame(5000, 5).assign(plan="gold")
    model.train(gold, run_id="gold", n_estimators=5)
    gold.iloc[:600].to_parquet(tmp_path / "gold.parquet")
    done = _run(
        modelfleet,
        root,
        "report",
        f"--data={tmp_path / 'gold.parquet'}",
        "--version=gold",
        f"--output={tmp_path / 'c'}",
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["against"] is None
    assert "the champion champ is left out of the report" in done.stderr


def test_a_report_whose_page_cannot_be_written_leaves_no_new_json_beside_an_old_page(fleet, tmp_path, monkeypatch):
    from shared.commands import report as reports
    from shared.storage import backends

    model, root = fleet
    folder = tmp_path / "pair"
    model.report(str(root / "labelled.parquet"), version="new", output=str(folder))
    old = (folder / "report.html").read_bytes()
    real = backends.LocalBackend.put

    def full(self, path, data, fault):
        if path.endswith("report.html"):
            raise OSError(28, "No space left on device", path)
        return real(self, path, data, fault)

    monkeypatch.setattr(backends.LocalBackend, "put", full)
    with pytest.raises(Exception, match="No space left"):
        reports.write(str(folder), json.loads((folder / "report.json").read_text()) | {"version": "other"})
    assert (folder / "report.html").read_bytes() == old
    assert not (folder / "report.json").exists()
