"""No command writes over what it reads, and no variable meant for one command moves another command's writes."""

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch import cli
from models.churn import Churn
from shared.plumbing.binding import command_specs
from shared.storage.store import Store


def snapshot(folder):
    """Every file below ``folder`` with its bytes."""
    return {
        str(path.relative_to(folder)): path.read_bytes() for path in sorted(Path(folder).rglob("*")) if path.is_file()
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kind=st.sampled_from(["file", "folder", "glob"]),
    fmt=st.sampled_from(["parquet", "csv"]),
    relation=st.sampled_from(["the-input", "in-the-folder", "shard-folder-inside"]),
    spelled=st.sampled_from(["as-is", "dot", "detour"]),
    dry_run=st.booleans(),
)
def test_score_never_writes_over_its_input(store, tmp_path_factory, capsys, kind, fmt, relation, spelled, dry_run):
    """An output that is, or lies inside, the input is refused with 64 before any work (in a dry run too); the
    input is unchanged. A shard folder beside the files a glob matches is not inside the input."""
    root = tmp_path_factory.mktemp("case")
    folder = root / "in"
    folder.mkdir()
    frame = Churn()._sample_frame(50, 1).drop(columns="churned")
    for name in ("a", "b"):
        getattr(frame, f"to_{fmt}")(folder / f"{name}.{fmt}", index=False)
    data = {"file": folder / f"a.{fmt}", "folder": folder, "glob": folder / f"*.{fmt}"}[kind]
    target = {
        "the-input": folder / f"a.{fmt}",
        "in-the-folder": folder / f"new.{fmt}",
        "shard-folder-inside": folder / "parts",
    }[relation]
    if kind == "file" and relation != "the-input":
        relation, target = "the-input", data  # a single file has nothing inside it: aim at the file itself
    written = {
        "as-is": str(target),
        "dot": f"{target.parent}/./{target.name}",
        "detour": f"{root}/x/../in/{target.name}",
    }
    args = ["churn", "score", f"--data={data}", f"--output={written[spelled]}", f"--store={store}"]
    args += ["--shard=0/2"] if relation == "shard-folder-inside" else []
    args += ["--dry_run"] if dry_run else []
    before = snapshot(folder)
    code = cli.main(args)
    _, err = capsys.readouterr()
    if kind == "glob" and relation == "shard-folder-inside":  # in/parts/... is not matched by in/*.parquet
        assert code == 0, err
        assert {k: v for k, v in snapshot(folder).items() if not k.startswith("parts")} == before
    else:
        assert code == 64, err
        assert "lies inside, the input" in err
        assert snapshot(folder) == before
    shutil.rmtree(root)


def variables(model, exclude):
    """Every variable that could name a path for any command of ``model`` (its own or model-wide), but ``exclude``."""
    found = set()
    for command in model.commands:
        for spec in command_specs(model, command):
            if spec.type_name() == "Parquet or CSV path or URL":
                found.update(spec.env_vars(model.name, command))
                found.add(spec.env_var(model.name))
    return sorted(found - {exclude})


OUTPUTS = [(command, spec.name) for command in Churn.commands for spec in command_specs(Churn, command) if spec.output]


@pytest.mark.parametrize(("command", "param"), OUTPUTS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_variable_but_its_own_moves_a_commands_output(capsys, command, param, data):
    """Set any variables meant for other commands or for the whole model: a command's output stays where its
    own flag, its own variable or its default puts it, or the command refuses to start (78)."""
    own = f"MODELFLEET_CHURN_{command}_{param}".upper()
    chosen = data.draw(st.lists(st.sampled_from(variables(Churn, own)), unique=True, max_size=6))
    with pytest.MonkeyPatch.context() as patch:
        for name in chosen:
            patch.setenv(name, "elsewhere.parquet")
        code = cli.main(["churn", "describe"])
    out, err = capsys.readouterr()
    if code != 0:
        assert code == 78, err
        shared = [name for name in chosen if f"{name} is set" in err]
        assert shared, err
        assert shared[0].removeprefix("MODELFLEET_CHURN_") in {p.upper() for _, p in OUTPUTS}, err
        return
    setting = json.loads(out)["commands"][command]["parameters"][param]
    assert setting["value"] is None, (chosen, setting)
    assert setting["source"] == ("required" if setting.get("required") else "default"), (chosen, setting)


def test_the_variable_for_score_output_leaves_sample_alone(store, tmp_path, monkeypatch, capsys):
    """MODELFLEET_CHURN_SCORE_OUTPUT is score's; sample writes its own default, and the predictions survive."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MODELFLEET_CHURN_SCORE_OUTPUT", str(tmp_path / "predictions.parquet"))
    monkeypatch.setenv("MODELFLEET_STORE", store)
    assert cli.main(["churn", "score"]) == 0
    predictions = (tmp_path / "predictions.parquet").read_bytes()
    assert cli.main(["churn", "sample", "--rows=10"]) == 0
    capsys.readouterr()
    assert (tmp_path / "predictions.parquet").read_bytes() == predictions
    assert (tmp_path / "churn-sample.parquet").exists()
    monkeypatch.setenv("MODELFLEET_CHURN_OUTPUT", str(tmp_path / "predictions.parquet"))
    assert cli.main(["churn", "sample", "--rows=10"]) == 78
    assert "MODELFLEET_CHURN_SAMPLE_OUTPUT" in capsys.readouterr().err
    assert (tmp_path / "predictions.parquet").read_bytes() == predictions


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    # rollback needs an alias moved twice first (tests/models/churn/test_promotion.py has its own cases), drift a
    # sharded run (tests/models/churn/test_drift.py)
    command=st.sampled_from([command for command in Churn.commands if command not in ("rollback", "drift")]),
    aim=st.sampled_from(["data-file", "in-data-folder", "output", "in-shard-folder", "store-file", "in-store"]),
    spelled=st.sampled_from(["as-is", "dot", "detour"]),
    via=st.sampled_from(["env", "xcom"]),
    dry_run=st.booleans(),
)
def test_the_result_file_never_replaces_what_a_command_reads_or_writes(
    store, tmp_path_factory, monkeypatch, capsys, command, aim, spelled, via, dry_run
):
    """MODELFLEET_RESULT_PATH (or the XCom folder) naming the input, an output or a store file is refused with 64
    before any work, and nothing is written there: not the result, not the failure record."""
    root = tmp_path_factory.mktemp("case")
    work = root / "work"
    shutil.copytree(store, work / "store")
    (work / "in").mkdir()
    (work / "out").mkdir()
    (root / "x").mkdir()
    frame = Churn()._sample_frame(200, 2)
    frame.to_parquet(work / "in" / "labelled.parquet", index=False)
    frame.drop(columns="churned").to_parquet(work / "in" / "unlabelled.parquet", index=False)
    (work / "out" / "scores.parquet").write_bytes(b"earlier predictions")
    reads = command in ("train", "score", "evaluate", "compare", "report")
    shard = aim == "in-shard-folder" and command == "score"
    labelled = command in ("train", "evaluate", "compare", "report")
    data = work / "in" / ("labelled.parquet" if labelled else "unlabelled.parquet")
    data = work / "in" if aim == "in-data-folder" and command == "score" else data
    args = ["churn", command, f"--store={work / 'store'}", *[f"--data={data}"] * reads]
    if command in ("score", "sample"):
        args.append(f"--output={work / 'out' if shard else work / 'out' / 'scores.parquet'}")
        args += ["--shard=0/2"] * shard
    args += ["--n_estimators=3"] * (command == "train") + ["--alias=champion"] * (command == "promote")
    if command == "compare":  # the store's one version, by two names
        args.append(f"--versions=latest,{Store(str(work / 'store')).versions('churn')[0]['version']}")
    args += ["--keep=1"] * (command == "gc")
    args += ["--dry_run"] * (dry_run and command not in ("describe", "aliases"))
    target = {
        "data-file": data if data.is_file() else data / "unlabelled.parquet",
        "in-data-folder": work / "in" / "result.json",
        "output": work / "out" / "scores.parquet",
        "in-shard-folder": work / "out" / "result.json",
        "store-file": next((work / "store").rglob("model.txt")),
        "in-store": work / "store" / "result.json",
    }[aim]
    if via == "xcom":  # Airflow's XCom folder: the result goes to <folder>/return.json
        target = target.parent / "return.json"
        monkeypatch.delenv("MODELFLEET_RESULT_PATH", raising=False)
        monkeypatch.setenv("MODELFLEET_XCOM_DIR", str(target.parent))
    else:
        spellings = {
            "as-is": str(target),
            "dot": f"{target.parent}/./{target.name}",
            "detour": f"{root}/x/../work/{target.relative_to(work)}",
        }
        monkeypatch.setenv("MODELFLEET_RESULT_PATH", spellings[spelled])
    places = [work / "store", *[data] * reads]
    places += [work / "out" if shard else work / "out" / "scores.parquet"] * (command in ("score", "sample"))
    collides = any(target == place or place in target.parents for place in places)
    foreign = target.exists() and target.suffix != ".json"  # a file there that is no earlier result
    before = snapshot(work)
    code = cli.main(args)
    _, err = capsys.readouterr()
    if collides or foreign:
        assert code == 64, (args, target, err)
        assert "point MODELFLEET_RESULT_PATH elsewhere" in err
        assert snapshot(work) == before
    else:
        assert code == 0, (args, target, err)
        assert target.exists()
    shutil.rmtree(root)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    victim=st.sampled_from(["in.parquet", "in.csv", "config.yaml", "config.json", "notes.txt"]),
    failure=st.sampled_from(
        [
            ["churn", "score", "--batch_rows=abc"],
            ["churn", "score", "--nosuch=1"],
            ["churn", "scroe"],
            ["churn", "score", "--shard=5/2"],
            ["churn", "score", "--as_of=0"],
            ["churn", "train", "--n_estimators=3", "--n_estimators=4"],
            ["churn", "train", "--config=missing.yaml"],
            ["nosuch", "train"],
        ]
    ),
)
def test_a_failure_record_never_replaces_a_file_that_is_no_result(
    tmp_path_factory, monkeypatch, capsys, victim, failure
):
    """However early a command fails, the failure record goes only where nothing or an earlier result is: an
    input, a config or any other file named as the result file is left as it was."""
    folder = tmp_path_factory.mktemp("victim")
    path = folder / victim
    frame = Churn()._sample_frame(30, 1)
    if victim.endswith(".parquet"):
        frame.to_parquet(path)
    elif victim.endswith(".csv"):
        frame.to_csv(path)
    else:
        path.write_text({"config.yaml": "score: {}\n", "config.json": '{"score": {}}', "notes.txt": "hi"}[victim])
    before = path.read_bytes()
    monkeypatch.setenv("MODELFLEET_RESULT_PATH", str(path))
    monkeypatch.chdir(folder)
    code = cli.main([*failure, f"--data={path}"] if "--data" not in failure else failure)
    capsys.readouterr()
    assert code != 0
    assert path.read_bytes() == before


def test_an_earlier_result_is_replaced(tmp_path, monkeypatch, capsys):
    """The usual case stays: the result file of an earlier run (or Airflow's return.json) is overwritten."""
    path = tmp_path / "result.json"
    path.write_text('{"model": "churn", "rows": 3}')
    monkeypatch.setenv("MODELFLEET_RESULT_PATH", str(path))
    assert cli.main(["churn", "score", "--nosuch=1"]) == 2
    assert json.loads(path.read_text())["exit_code"] == 2
    capsys.readouterr()
