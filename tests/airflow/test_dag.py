"""The example DAG as Airflow parses it: no import errors, the documented graph, arguments the CLI accepts."""

import json
import os
import subprocess
import sys
from pathlib import Path

SHARDS = 4


def test_the_example_dag_imports_cleanly(dagbag):
    assert dagbag.import_errors == {}
    assert sorted(dagbag.dag_ids) == ["modelfleet_daily"]


def test_the_graph_is_the_one_the_readme_documents(daily):
    edges = {(up, task.task_id) for task in daily.tasks for up in task.upstream_task_ids}
    assert edges == {("churn_train", "churn_score"), ("churn_score", "churn_drift"), ("ltv_train", "ltv_score")}
    assert {task.task_id: _is_mapped(task) for task in daily.tasks} == {
        "churn_train": False,
        "churn_score": True,
        "churn_drift": False,
        "ltv_train": False,
        "ltv_score": False,
    }


def test_churn_score_is_mapped_over_every_shard_once(daily):
    lists = _argument_lists(daily.get_task("churn_score"))
    shards = [arguments[-1] for arguments in lists]
    assert shards == [f"--shard={k}/{SHARDS}" for k in range(SHARDS)]
    assert all(arguments[:-1] == lists[0][:-1] for arguments in lists)  # the same call but for its shard


def test_every_argument_list_names_flags_the_manifest_lists(daily, problems):
    for task in daily.tasks:
        for arguments in _argument_lists(task):
            assert problems(arguments, rendered=False) == [], task.task_id


def test_the_manifest_check_refuses_what_the_command_line_refuses(problems):
    assert problems(["churn", "train", "--n_estimators=300", "--as_of=2024-10-10", "--run_id=x"]) == []
    assert len(problems(["churn", "train", "--n_estimators=abc", "--n_estimators=0", "--nosuch=1"])) == 3
    assert problems(["churn", "train", "--boosting=goss"]) != []
    assert problems(["churn", "score", "--as_of=2024-10-10T00:00:00"]) != []
    assert problems(["churn", "score", "--shard=4/4"]) != []
    assert problems(["churn", "score", "--version={{ ti.xcom_pull(task_ids='x') }}"]) != []
    assert problems(["churn", "score", "--version={{ ti.xcom_pull(task_ids='x') }}"], rendered=False) == []


def test_training_commits_one_version_per_dag_and_logical_date(daily):
    for task_id in ("churn_train", "ltv_train"):
        (arguments,) = _argument_lists(daily.get_task(task_id))
        assert "--run_id={{ dag.dag_id }}__{{ ts_nodash }}" in arguments


def test_ltv_scores_with_the_version_its_train_commits_and_churn_with_its_gated_champion(daily):
    for arguments in _argument_lists(daily.get_task("ltv_score")):
        assert "--version={{ ti.xcom_pull(task_ids='ltv_train')['version'] }}" in arguments
    (train,) = _argument_lists(daily.get_task("churn_train"))
    assert {"--promote=champion", "--gate=auc>=0.70", "--against=champion"} <= set(train)
    scores = _argument_lists(daily.get_task("churn_score"))
    assert all("--version=champion" in arguments for arguments in scores)
    assert len({next(a for a in arguments if a.startswith("--output=")) for arguments in scores}) == 1
    assert daily.get_task("churn_score").trigger_rule == "none_failed"  # runs after a skipped train
    assert 100 in daily.get_task("churn_train").skip_on_exit_code  # a refused gate skips, never retries


def test_the_shipped_manifest_is_the_images(manifest):
    """The manifest beside the DAG says what the image's own ``modelfleet manifest`` says (but for which models
    this test's image has installed: it has churn and ltv only)."""
    shipped = json.loads((Path(__file__).parents[2] / "examples" / "dags" / "modelfleet-manifest.json").read_text())
    for document in (shipped, manifest):
        for model in document["models"].values():
            model.pop("available")
    assert shipped == manifest


def test_the_example_dag_is_checked_against_the_manifest_beside_it(daily):
    """The DAG parsed (test_the_example_dag_imports_cleanly) with no model importable here: by the manifest."""
    assert "models" not in sys.modules
    assert "MODELFLEET_MANIFEST" not in os.environ  # given as manifest=, beside the DAG


def test_importing_the_dispatcher_never_imports_airflow():
    code = (
        "import sys, dispatch, dispatch.airflow, dispatch.cli; print(sorted(m for m in sys.modules if 'airflow' in m))"
    )
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert imported.strip() == "['dispatch.airflow']"


def _is_mapped(task) -> bool:
    return hasattr(task, "expand_input")


def _argument_lists(task) -> list[list[str]]:
    return task.expand_input.value["arguments"] if _is_mapped(task) else [task.arguments]
