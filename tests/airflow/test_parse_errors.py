"""A DAG with a wrong flag, value or template fails when Airflow parses it, with the dispatcher's message.

Every call is checked against the image's manifest (``$MODELFLEET_MANIFEST`` here, or ``manifest=``): no model is
importable in this process (see conftest.py), so these are the checks an Airflow environment without models makes.
"""

import json
from pathlib import Path

import pytest
from airflow.dag_processing.dagbag import DagBag

SHIPPED = Path(__file__).parents[2] / "examples" / "dags" / "modelfleet-manifest.json"  # the example DAG's

DAG_FILE = """
import pendulum
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.sdk import DAG

import dispatch.airflow
from dispatch.airflow import pod_task

with DAG("checked", schedule=None, start_date=pendulum.datetime(2024, 10, 1, tz="UTC")):
    {task}
"""


@pytest.fixture(autouse=True)
def shipped_manifest(monkeypatch):
    """The example DAG's manifest, as a deployment sets it for every DAG: MODELFLEET_MANIFEST."""
    monkeypatch.setenv("MODELFLEET_MANIFEST", str(SHIPPED))


def parse(tmp_path, task: str) -> list[str]:
    """Parse a DAG file holding one task, as Airflow's DAG processor does; return its import errors."""
    folder = tmp_path / "dags"
    folder.mkdir(exist_ok=True)
    (folder / "checked.py").write_text(DAG_FILE.format(task=task))
    bag = DagBag(dag_folder=folder)
    assert bag.dag_ids == ([] if bag.import_errors else ["checked"])
    return list(bag.import_errors.values())


def test_no_model_can_be_imported_here():
    """The proof's premise: Airflow's env has no model's code and no model's libraries."""
    import importlib.util

    assert importlib.util.find_spec("lightgbm") is None
    assert importlib.util.find_spec("sklearn") is None
    with pytest.raises(ImportError, match="no model is installed beside Airflow"):
        import models.churn  # noqa: F401


@pytest.mark.parametrize(
    "task",
    [
        pytest.param('pod_task("t", "churn", "train", image="i", n_estimators=9, run_id="{{ ds_nodash }}")', id="run"),
        pytest.param('pod_task("t", "churn", "score", image="i", as_of="{{ macros.ds_add(ds, -1) }}")', id="macro"),
        pytest.param('pod_task("t", "churn", "train", image="i", n_estimators="{{ params.rounds }}")', id="params"),
        pytest.param('pod_task("t", "churn", "train", image="i", seed="{{ params.seed + 1 }}")', id="params-sum"),
        pytest.param('pod_task("t", "ltv", "score", image="i", shards=3, version="champion")', id="shards"),
        pytest.param(
            'KubernetesPodOperator(task_id="t", image="i", arguments=dispatch.airflow.argv("churn", "train", seed=9))',
            id="argv",
        ),
    ],
)
def test_a_right_dag_parses(tmp_path, task):
    assert parse(tmp_path, task) == []


WRONG = {
    "unknown flag": (
        'pod_task("t", "churn", "train", image="i", n_estimatorz=300)',
        "unknown flag for 'churn train': '--n_estimatorz' (did you mean '--n_estimators'?)",
    ),
    "wrong type": (
        'pod_task("t", "churn", "train", image="i", n_estimators="many")',
        "--n_estimators must be int >= 1 and <= 100000",
    ),
    "out of bounds, plain operator": (
        'KubernetesPodOperator(task_id="t", image="i", arguments=dispatch.airflow.argv("churn", "train", '
        "n_estimators=0))",
        "--n_estimators must be int >= 1 and <= 100000",
    ),
    "a Check function's refusal": (
        'pod_task("t", "churn", "score", image="i", shard="4/4")',
        "--shard must be K/N with 0 <= K < N",
    ),
    "not one of the choices": (
        'pod_task("t", "churn", "drift", image="i", on_drift="never")',
        "--on_drift must be one of 'warn', 'fail'",
    ),
    "unknown model": ('pod_task("t", "chrun", "train", image="i")', "unknown model 'chrun' (did you mean 'churn'?)"),
    "unknown command": ('pod_task("t", "ltv", "trian", image="i")', "unknown command for 'ltv': 'trian'"),
    "template of the wrong type": (
        'pod_task("t", "churn", "score", image="i", as_of="{{ ts }}")',
        "--as_of (the template '{{ ts }}' for a sample run) must be date (YYYY-MM-DD)",
    ),
    "template out of bounds": (
        'pod_task("t", "churn", "train", image="i", n_estimators="{{ ds_nodash }}00")',
        "--n_estimators (the template '{{ ds_nodash }}00' for a sample run) must be int",
    ),
    "template with a misspelt name": (
        'pod_task("t", "churn", "train", image="i", run_id="{{ ts_nodahs }}")',
        "--run_id: the template '{{ ts_nodahs }}' uses 'ts_nodahs' (did you mean 'ts_nodash'?)",
    ),
    "template syntax": (
        'pod_task("t", "churn", "train", image="i", run_id="{{ ts_nodash }")',
        "--run_id: the template '{{ ts_nodash }' is not valid Jinja",
    ),
    "template that fails": (
        'pod_task("t", "churn", "train", image="i", n_estimators="{{ ds + 1 }}")',
        "--n_estimators: the template '{{ ds + 1 }}' fails for a sample run: TypeError",
    ),
    "secret as a flag": (
        'pod_task("t", "churn", "train", image="i", aws_secret_access_key="{{ var.value.key }}")',
        "--aws_secret_access_key looks like a secret",
    ),
    "no shards": ('pod_task("t", "churn", "score", image="i", shards=0)', "shards must be a whole number >= 1"),
    "arguments in pod_args": (
        'pod_task("t", "churn", "score", image="i", pod_args={"arguments": ["churn", "train"]})',
        "pod_args may not set arguments",
    ),
    "no manifest there": (
        'pod_task("t", "churn", "score", image="i", manifest="/nowhere/manifest.json")',
        "the manifest /nowhere/manifest.json cannot be read (No such file or directory); write it from the image",
    ),
}


@pytest.mark.parametrize(("task", "message"), WRONG.values(), ids=WRONG.keys())
def test_a_wrong_dag_fails_to_parse_with_the_dispatchers_message(tmp_path, task, message):
    (error,) = parse(tmp_path, task)
    assert message in error


@pytest.fixture
def own_manifest(tmp_path):
    """An image's manifest with a model nothing here has ever installed: ``subs_churn`` (churn, renamed)."""
    document = json.loads(SHIPPED.read_text())
    document["models"] = {"subs_churn": document["models"]["churn"]}
    path = tmp_path / "image-manifest.json"
    path.write_text(json.dumps(document))
    return path


def test_a_model_only_the_manifest_knows_is_checked_as_strictly(tmp_path, own_manifest):
    """A DAG for a model that exists only in the image's manifest parses, and its mistakes fail with the messages
    the installed path gives: given as manifest= (which wins over MODELFLEET_MANIFEST) or in the variable."""
    right = f'pod_task("t", "subs_churn", "train", image="i", n_estimators=9, manifest="{own_manifest}")'
    assert parse(tmp_path, right) == []
    typo = f'pod_task("t", "subs_churn", "train", image="i", n_estimatorz=9, manifest="{own_manifest}")'
    (error,) = parse(tmp_path, typo)
    assert "unknown flag for 'subs_churn train': '--n_estimatorz' (did you mean '--n_estimators'?)" in error
    assert parse(tmp_path, 'pod_task("t", "subs_churn", "train", image="i")') != []  # not in the shipped one
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MODELFLEET_MANIFEST", str(own_manifest))
        assert parse(tmp_path, 'pod_task("t", "subs_churn", "score", image="i", shards=2)') == []
        (error,) = parse(tmp_path, 'pod_task("t", "subs_chrun", "score", image="i", shards=0)')
        assert "unknown model 'subs_chrun' (did you mean 'subs_churn'?); choose from: subs_churn" in error


def test_the_tutorials_dag_parses_against_its_images_manifest(tmp_path, own_manifest):
    """The DAG the tutorial (docs/tutorial.md) writes parses with the manifest beside it, for a model only that
    manifest knows; the same DAG with a misspelt flag fails at parse time with the dispatcher's message."""
    import re

    tutorial = (Path(__file__).parents[2] / "docs" / "tutorial.md").read_text()
    source = re.search(r'```python title="dags/subs_daily.py"\n(.*?)^```', tutorial, re.S | re.M).group(1)
    folder = tmp_path / "tutorial-dags"
    folder.mkdir()
    (folder / "modelfleet-manifest.json").write_bytes(own_manifest.read_bytes())
    (folder / "subs_daily.py").write_text(source)
    bag = DagBag(dag_folder=folder)
    assert bag.import_errors == {}
    assert bag.dag_ids == ["subs_daily"]
    assert sorted(bag.get_dag("subs_daily").task_ids) == ["subs_churn_score", "subs_churn_train"]
    (folder / "subs_daily.py").write_text(source.replace("split_column=", "split_colum="))
    (error,) = DagBag(dag_folder=folder).import_errors.values()
    assert "unknown flag for 'subs_churn train': '--split_colum' (did you mean '--split_column'?)" in error
