"""A DAG with a wrong flag, value or template fails when Airflow parses it, with the dispatcher's message."""

import pytest
from airflow.dag_processing.dagbag import DagBag

DAG_FILE = """
import pendulum
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.sdk import DAG

import dispatch
from dispatch.airflow import pod_task

with DAG("checked", schedule=None, start_date=pendulum.datetime(2024, 10, 1, tz="UTC")):
    {task}
"""


def parse(tmp_path, task: str) -> list[str]:
    """Parse a DAG file holding one task, as Airflow's DAG processor does; return its import errors."""
    (tmp_path / "checked.py").write_text(DAG_FILE.format(task=task))
    bag = DagBag(dag_folder=tmp_path)
    assert bag.dag_ids == ([] if bag.import_errors else ["checked"])
    return list(bag.import_errors.values())


@pytest.mark.parametrize(
    "task",
    [
        pytest.param('pod_task("t", "churn", "train", image="i", n_estimators=9, run_id="{{ ds_nodash }}")', id="run"),
        pytest.param('pod_task("t", "churn", "score", image="i", as_of="{{ macros.ds_add(ds, -1) }}")', id="macro"),
        pytest.param('pod_task("t", "churn", "train", image="i", n_estimators="{{ params.rounds }}")', id="params"),
        pytest.param('pod_task("t", "churn", "train", image="i", seed="{{ params.seed + 1 }}")', id="params-sum"),
        pytest.param(
            'KubernetesPodOperator(task_id="t", image="i", arguments=dispatch.argv("churn", "train", n_estimators=9))',
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
        'KubernetesPodOperator(task_id="t", image="i", arguments=dispatch.argv("churn", "train", n_estimators=0))',
        "--n_estimators must be int >= 1 and <= 100000",
    ),
    "unknown model": ('pod_task("t", "chrun", "train", image="i")', "unknown model 'chrun' (did you mean 'churn'?)"),
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
}


@pytest.mark.parametrize(("task", "message"), WRONG.values(), ids=WRONG.keys())
def test_a_wrong_dag_fails_to_parse_with_the_dispatchers_message(tmp_path, task, message):
    (error,) = parse(tmp_path, task)
    assert message in error
