"""Streaming and sharded scoring through the real entry point: env-driven shards, retries, progress, exit codes."""

import json

import pandas as pd
import pytest

from models.churn import Churn

pytestmark = pytest.mark.slow


def store_in(cwd, **env):
    """The environment of a run in ``cwd``: its store there, and ``env``."""
    return {"MODELFLEET_STORE": str(cwd / "store"), **env}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A trained churn model and an unlabelled input of three Parquet files (eight row groups)."""
    root = tmp_path_factory.mktemp("scoring")
    Churn(store=str(root / "store")).train(n_estimators=20)
    frame = Churn()._sample_frame(4000, 5).drop(columns=["churned"])
    (root / "in").mkdir()
    for i, (start, stop) in enumerate([(0, 1500), (1500, 3000), (3000, 4000)]):
        frame.iloc[start:stop].to_parquet(root / "in" / f"{i}.parquet", index=False, row_group_size=500)
    Churn(store=str(root / "store")).score(str(root / "in"), output=str(root / "whole.parquet"))
    return root


@pytest.mark.parametrize(
    "environ",
    [
        [{"JOB_COMPLETION_INDEX": str(k), "MODELFLEET_CHURN_SHARDS": "3"} for k in range(3)],
        [{"AWS_BATCH_JOB_ARRAY_INDEX": str(k), "AWS_BATCH_JOB_ARRAY_SIZE": "3"} for k in range(3)],
    ],
    ids=["kubernetes-indexed-job", "aws-batch-array"],
)
def test_orchestrator_environment_picks_the_shard(modelfleet, workdir, environ, tmp_path):
    """Each pod of an Indexed Job or array job scores its own slice; the parts union to the whole."""
    results = []
    for env in environ:
        done = modelfleet(["churn", "score", "--data=in", f"--output={tmp_path}"], workdir, store_in(workdir, **env))
        assert done.returncode == 0, done.stderr
        results.append(json.loads(done.stdout))
    assert [r["shard"] for r in results] == ["0/3", "1/3", "2/3"]
    assert {r["shard_source"] for r in results} == {next(iter(environ[0]))}
    union = pd.concat([pd.read_parquet(r["output"]) for r in results], ignore_index=True)
    assert union.equals(pd.read_parquet(workdir / "whole.parquet"))


def test_a_retried_shard_replaces_its_part_with_the_same_rows(modelfleet, workdir, tmp_path):
    """Running a shard twice (an Airflow retry) leaves one complete part file, identical to the first."""
    for _ in range(2):
        done = modelfleet(
            ["churn", "score", "--data=in", f"--output={tmp_path}", "--shard=1/2"], workdir, store_in(workdir)
        )
        assert done.returncode == 0, done.stderr
        first = pd.read_parquet(json.loads(done.stdout)["output"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_drift", "_version.json", "part-00001-of-00002.parquet"]
    assert [p.name for p in (tmp_path / "_drift").iterdir()] == ["part-00001-of-00002.json"]
    assert len(first) == 2000


def test_a_failed_shard_leaves_nothing(modelfleet, workdir, tmp_path):
    """A shard that fails its checks (unseen levels) writes no part and no temporary file: only the run's pin of
    its version (a retry of the shard, or the run's other shards, score with that version)."""
    frame = pd.read_parquet(workdir / "in" / "0.parquet").assign(plan="platinum")
    frame.to_parquet(tmp_path / "novel.parquet", index=False)
    done = modelfleet(
        ["churn", "score", f"--data={tmp_path / 'novel.parquet'}", f"--output={tmp_path / 'out'}", "--shard=0/1"],
        workdir,
        store_in(workdir),
    )
    assert done.returncode == 65, done.stderr
    assert "never seen in training" in done.stderr
    assert [path.name for path in (tmp_path / "out").iterdir()] == ["_version.json"]


def test_progress_goes_to_stderr_and_stdout_stays_one_json_object(modelfleet, workdir):
    done = modelfleet(
        ["churn", "score", "--data=in", "--output=p.parquet", "--batch_rows=500"],
        workdir,
        store_in(workdir, MODELFLEET_PROGRESS_SECONDS="0"),
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rows"] == 4000
    assert "scored 500 rows" in done.stderr
    assert "rows/s" in done.stderr


@pytest.mark.parametrize(
    ("args", "env", "code", "message"),
    [
        (["--shard=0/2", "--output=bad.parquet"], {}, 64, "with a shard, name a folder"),
        (["--shards=2"], {}, 64, "needs this process's index"),
        (["--shard=0/2", "--shards=3"], {}, 64, "give one count"),
        ([], {"JOB_COMPLETION_INDEX": "0"}, 78, "shard count is not"),
        ([], {"JOB_COMPLETION_INDEX": "5", "MODELFLEET_CHURN_SHARDS": "5"}, 78, "shard 5 of 5 does not exist"),
        (["--data=in/nope", "--output=bad.parquet"], {}, 66, "input not found"),
    ],
)
def test_bad_shard_settings_fail_before_any_work(modelfleet, workdir, args, env, code, message):
    given = {arg.split("=")[0] for arg in args}
    defaults = [flag for flag in ("--data=in", "--output=bad") if flag.split("=")[0] not in given]
    done = modelfleet(["churn", "score", *defaults, *args], workdir, store_in(workdir, **env))
    assert done.returncode == code, done.stderr
    assert len(done.stderr.splitlines()) == 1
    assert message in done.stderr
    assert not (workdir / "bad").exists()
    assert not (workdir / "bad.parquet").exists()


def test_an_input_with_no_rows_is_nothing_to_do(modelfleet, workdir, tmp_path):
    """Exit 99 (Airflow: skip), no output; as a shard, an empty part instead."""
    pd.read_parquet(workdir / "in" / "0.parquet").iloc[:0].to_parquet(tmp_path / "empty.parquet", index=False)
    done = modelfleet(
        ["churn", "score", f"--data={tmp_path / 'empty.parquet'}", "--output=none.parquet"], workdir, store_in(workdir)
    )
    assert done.returncode == 99
    assert "has no rows; nothing to do" in done.stderr
    assert not (workdir / "none.parquet").exists()
    done = modelfleet(
        ["churn", "score", f"--data={tmp_path / 'empty.parquet'}", f"--output={tmp_path}/parts", "--shard=0/2"],
        workdir,
        store_in(workdir),
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rows"] == 0
    assert list(pd.read_parquet(tmp_path / "parts" / "part-00000-of-00002.parquet").columns) == [
        "customer_id",
        "churn_probability",
    ]


def test_training_progress_shows_rounds_and_metric_on_stderr(modelfleet, tmp_path):
    """Long runs show progress (round, rounds/s, the first metric on held-out rows) on stderr, never stdout."""
    done = modelfleet(
        ["churn", "train", "--n_estimators=5"], tmp_path, store_in(tmp_path, MODELFLEET_PROGRESS_SECONDS="0")
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["model"] == "churn"
    rounds = [line for line in done.stderr.splitlines() if " round " in line]
    assert [line.split(" round ")[1].split(" ")[0] for line in rounds] == [f"{i}/5" for i in range(1, 6)]
    assert "auc 0." in rounds[-1]
    assert "held-out rows" in rounds[-1]


def test_csv_streams_blanks_as_missing_ids_as_text_and_writes_csv(modelfleet, workdir, tmp_path):
    """A CSV with blanks in a category and ids that turn from digits to text streams like a whole read,
    in many blocks and batches, to a CSV output."""
    frame = pd.read_parquet(workdir / "in" / "0.parquet")
    frame["plan"] = frame["plan"].where(frame.index % 10 != 0, None)  # 10% blank: missing, not unseen
    frame["customer_id"] = [str(i) if i < 1000 else f"X{i}" for i in range(len(frame))]
    frame.to_csv(tmp_path / "in.csv", index=False)
    whole = Churn(store=str(workdir / "store")).score(pd.read_csv(tmp_path / "in.csv"))
    out = tmp_path / "out.csv"
    done = modelfleet(
        ["churn", "score", f"--data={tmp_path / 'in.csv'}", f"--output={out}", "--batch_rows=100"],
        workdir,
        store_in(workdir),
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["rows_with_unseen_levels"] == 0
    streamed = pd.read_csv(out, dtype={"customer_id": str})
    assert streamed["customer_id"].tolist() == frame["customer_id"].tolist()
    assert (
        streamed["churn_probability"].round(12).tolist() == whole["predictions"]["churn_probability"].round(12).tolist()
    )


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--data=in", "--output=outdir.parquet"], 74, "it is a folder"),
        (["--data=in", "--dry_run"], 0, '"dry_run":true'),
        (["--data=in/*.parquet", "--dry_run"], 0, '"dry_run":true'),
    ],
)
def test_output_folders_and_dry_runs_of_folders(modelfleet, workdir, args, code, message):
    (workdir / "outdir.parquet").mkdir(exist_ok=True)
    done = modelfleet(["churn", "score", *args], workdir, store_in(workdir))
    assert done.returncode == code, done.stderr
    assert message in done.stderr + done.stdout


def test_a_file_name_with_brackets_is_a_file_not_a_pattern(modelfleet, workdir, tmp_path):
    target = tmp_path / "cust[2024-10-10].parquet"
    pd.read_parquet(workdir / "in" / "2.parquet").to_parquet(target, index=False)
    done = modelfleet(
        ["churn", "score", f"--data={target}", f"--output={tmp_path / 'o.parquet'}"], workdir, store_in(workdir)
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rows"] == 1000


def test_a_frame_with_odd_extra_columns_scores_to_a_file(workdir, tmp_path):
    """Extra columns of a caller's frame are reported, never converted."""
    frame = pd.read_parquet(workdir / "in" / "2.parquet").assign(notes=[1, "a"] * 500)
    result = Churn(store=str(workdir / "store")).score(frame, output=str(tmp_path / "o.parquet"))
    assert result["rows"] == 1000
    assert result["ignored_columns"] == ["notes"]


def test_training_names_a_case_changed_column(modelfleet, tmp_path):
    frame = Churn()._sample_frame(200, 0).rename(columns={"region": "Region"})
    frame.to_parquet(tmp_path / "t.parquet", index=False)
    done = modelfleet(["churn", "train", f"--data={tmp_path / 't.parquet'}"], tmp_path, store_in(tmp_path))
    assert done.returncode == 65
    assert "'region' (found 'Region': names are case-sensitive)" in done.stderr
