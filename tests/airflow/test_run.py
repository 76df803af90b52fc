"""The example DAG run end to end by Airflow (``dag.test()``), each pod replaced by a local process.

The stand-in for ``KubernetesPodOperator.execute`` builds the pod the operator would start (the operator's
own ``build_pod_request_obj``, templates rendered), runs that pod's command line against the ``modelfleet`` entry
point of the "image" venv (``$MODELFLEET_IMAGE_BIN``: the churn and ltv models, which this process cannot import),
and returns the result the command wrote (as the XCom sidecar reads
/airflow/xcom/return.json), so that Airflow pushes it to XCom. Exit codes in ``skip_on_exit_code`` skip the
task, as the operator does; any other failure fails it without the DAG's retries, so that a broken test fails
at once. The store that the ConfigMap gives the pods in a cluster is a local folder here. Everything else is
Airflow's: parsing, scheduling, mapping, templates, XCom."""

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pendulum
import pytest
from airflow.models.xcom import XComModel
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException
from airflow.utils.session import create_session

from dispatch.airflow import UID

BIN = os.environ.get("MODELFLEET_IMAGE_BIN", "")  # the image's `modelfleet` entry point (see conftest.py)
# dag.test() runs each task through Airflow's execution API in-process, with starlette's TestClient, which
# warns about its own HTTP transport (and this suite turns warnings into errors).
pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient` is deprecated")
DAY = pendulum.datetime(2024, 10, 10, tz="UTC")
SHARDS = 4


@dataclass
class Run:
    """What one DAG run did, read back from Airflow's metadata database and from the stand-in pods."""

    state: str
    states: dict[tuple[str, int], str] = field(default_factory=dict)
    results: dict[tuple[str, int], dict] = field(default_factory=dict)  # each task's XCom return_value
    pods: dict[tuple[str, int], Any] = field(default_factory=dict)  # the V1Pod each task would start
    labels: dict[tuple[str, int], str | None] = field(default_factory=dict)  # the mapped tasks' names

    def arguments(self, key: tuple[str, int]) -> list[str]:
        """The arguments of the pod's modelfleet container, as rendered for the run."""
        return base(self.pods[key]).args


def base(pod) -> Any:
    """The pod's main container: the one running modelfleet (the other one is the XCom sidecar)."""
    return next(c for c in pod.spec.containers if c.name == KubernetesPodOperator.BASE_CONTAINER_NAME)


def run(dag, day, store: Path, scratch: Path, environ: dict[str, str] | None = None) -> Run:
    """Run ``dag`` for logical date ``day`` with ``dag.test()``, pods run locally against ``store``; the
    predictions go to ``<store>/../predictions`` (the DAG's ``predictions`` param, given as the run's conf)."""
    pods: dict[tuple[str, int], Any] = {}

    def execute(self, context):
        key = (self.task_id, context["ti"].map_index)
        pods[key] = pod = self.build_pod_request_obj(context, dry_run=True)  # as the operator would start it
        container = base(pod)
        result = scratch / f"{self.task_id}.{key[1]}.json"
        env = {name: value for name, value in os.environ.items() if not name.startswith("MODELFLEET_")}
        env |= {"MODELFLEET_STORE": str(store), "MODELFLEET_RESULT_PATH": str(result), **(environ or {})}
        command = [shutil.which(container.command[0], path=BIN), *container.command[1:], *container.args]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode in self.skip_on_exit_code:
            raise AirflowSkipException(f"exit code {done.returncode}: {done.stderr.strip()}")
        if done.returncode:  # fails at once: a retry would only make the test wait for the same failure
            raise AirflowFailException(f"exit code {done.returncode}: {done.stderr.strip()}")
        return json.loads(result.read_text())

    scratch.mkdir(parents=True, exist_ok=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(KubernetesPodOperator, "execute", execute)
        dag_run = dag.test(logical_date=day, run_conf={"predictions": str(store.parent / "predictions")})
    done = Run(state=dag_run.state, pods=pods)
    with create_session() as session:
        for ti in dag_run.get_task_instances(session=session):
            done.states[(ti.task_id, ti.map_index)] = ti.state
            done.labels[(ti.task_id, ti.map_index)] = ti.rendered_map_index
        query = XComModel.get_many(run_id=dag_run.run_id, dag_ids=dag.dag_id, key="return_value")
        for row in session.scalars(query):
            done.results[(row.task_id, row.map_index)] = XComModel.deserialize_value(row)
    return done


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return tmp_path_factory.mktemp("store")


@pytest.fixture(scope="module")
def daily_run(daily, store, tmp_path_factory):
    return run(daily, DAY, store, tmp_path_factory.mktemp("pods"))


def test_every_task_succeeds_and_churn_score_runs_once_per_shard(daily_run):
    assert daily_run.state == "success"
    expected = {("churn_train", -1), ("churn_drift", -1), ("ltv_train", -1), ("ltv_score", -1)}
    expected |= {("churn_score", k) for k in range(SHARDS)}
    assert daily_run.states == dict.fromkeys(expected, "success")
    assert {daily_run.labels[("churn_score", k)] for k in range(SHARDS)} == {
        f"shard={k}/{SHARDS}" for k in range(SHARDS)
    }


def test_the_version_ltv_train_commits_reaches_ltv_score_through_xcom(daily_run):
    version = daily_run.results[("ltv_train", -1)]["version"]
    assert version == "modelfleet_daily__20241010T000000"  # <dag_id>__<ts_nodash> of the run
    assert f"--version={version}" in daily_run.arguments(("ltv_score", -1))  # pulled from train's XCom
    assert daily_run.results[("ltv_score", -1)]["version"] == version  # and scored with


def test_the_first_gated_churn_train_becomes_champion_and_every_shard_scores_with_it(daily_run, store):
    trained = daily_run.results[("churn_train", -1)]
    assert trained["gate"]["passed"] is True
    assert trained["gate"]["against"]["version"] is None  # the first run: no champion to compare with
    assert trained["promoted"]["generation"] == 1
    for k in range(SHARDS):
        assert "--version=champion" in daily_run.arguments(("churn_score", k))
        result = daily_run.results[("churn_score", k)]
        assert result["version"] == trained["version"]
        assert result["alias"]["generation"] == 1
        assert result["pin"] == str(store.parent / "predictions" / "churn" / "2024-10-10" / "_version.json")


def sample(rows: int, seed: int, folder: Path) -> pd.DataFrame:
    """churn's embedded sample (labelled), written by the image's ``modelfleet churn sample``."""
    path = folder / f"sample-{rows}-{seed}.parquet"
    command = [shutil.which("modelfleet", path=BIN), "churn", "sample", f"--rows={rows}", f"--seed={seed}"]
    subprocess.run([*command, f"--output={path}"], check=True, capture_output=True)
    return pd.read_parquet(path)


def test_the_shards_score_every_row_once(daily_run, store, tmp_path):
    version = daily_run.results[("churn_train", -1)]["version"]
    shards = [daily_run.results[("churn_score", k)] for k in range(SHARDS)]
    assert [shard["shard"] for shard in shards] == [f"{k}/{SHARDS}" for k in range(SHARDS)]
    whole = tmp_path / "whole.parquet"
    subprocess.run(
        [
            shutil.which("modelfleet", path=BIN),
            "churn",
            "score",
            f"--version={version}",
            f"--output={whole}",
            f"--store={store}",
        ],
        check=True,
        capture_output=True,
    )
    parts = [pd.read_parquet(shard["output"]) for shard in shards]
    assert [len(part) for part in parts] == [shard["rows"] for shard in shards]
    assert sum(shard["rows"] for shard in shards) == len(pd.read_parquet(whole))
    ids = pd.concat(parts)["customer_id"]
    assert ids.is_unique
    assert sorted(ids) == sorted(pd.read_parquet(whole)["customer_id"])


def test_every_rendered_argument_list_fits_the_manifest(daily_run, problems):
    assert len(daily_run.pods) == 4 + SHARDS
    for key in daily_run.pods:
        assert problems(daily_run.arguments(key)) == [], key


def test_every_pod_runs_modelfleet_as_the_images_user_with_a_read_only_root(daily_run):
    for key, pod in daily_run.pods.items():
        assert base(pod).image == "registry.example.com/modelfleet:0.1.0"
        assert base(pod).command == ["modelfleet"]
        assert (pod.spec.security_context.run_as_non_root, pod.spec.security_context.run_as_user) == (True, UID)
        assert pod.spec.security_context.seccomp_profile.type == "RuntimeDefault"
        for container in pod.spec.containers:  # modelfleet and the XCom sidecar
            assert container.security_context.read_only_root_filesystem is True, key
            assert container.security_context.allow_privilege_escalation is False, key
            assert container.security_context.capabilities.drop == ["ALL"], key
        scratch = {volume.name for volume in pod.spec.volumes if volume.empty_dir is not None}
        assert {m.mount_path for m in base(pod).volume_mounts if m.name in scratch} == {"/tmp", "/airflow/xcom"}


def test_every_pod_gets_the_settings_of_the_dags_default_args(daily_run):
    for key, pod in daily_run.pods.items():  # mapped or not
        assert pod.metadata.namespace == "modelfleet", key
        assert pod.spec.service_account_name == "modelfleet", key
        assert [source.config_map_ref.name for source in base(pod).env_from] == ["modelfleet"], key
    assert base(daily_run.pods[("churn_train", -1)]).resources.requests == {"cpu": "2", "memory": "4Gi"}


def test_a_rerun_of_the_same_day_commits_nothing_new(daily, daily_run, store, tmp_path):
    again = run(daily, DAY, store, tmp_path)
    for train in ("churn_train", "ltv_train"):
        assert again.results[(train, -1)]["version"] == daily_run.results[(train, -1)]["version"]
        assert again.results[(train, -1)]["already_committed"] is True


def test_an_empty_input_skips_the_retrain_and_the_champion_scores_nothing(daily, daily_run, store, tmp_path):
    """An empty daily partition: churn_train is skipped (99), churn_score still runs with the champion and
    writes empty parts (a complete set, so readers of the day's folder see no rows rather than none); ltv is
    left alone."""
    labelled, unlabelled = tmp_path / "labelled.parquet", tmp_path / "customers.parquet"
    sample(10, 0, tmp_path).iloc[:0].to_parquet(labelled)  # the columns, no rows
    sample(10, 0, tmp_path).iloc[:0].drop(columns="churned").to_parquet(unlabelled)
    shutil.copytree(store, tmp_path / "store")
    champion = daily_run.results[("churn_train", -1)]["version"]
    environ = {"MODELFLEET_CHURN_TRAIN_DATA": str(labelled), "MODELFLEET_CHURN_SCORE_DATA": str(unlabelled)}
    done = run(daily, DAY.add(days=1), tmp_path / "store", tmp_path / "pods", environ)
    assert done.state == "success"
    assert done.states[("churn_train", -1)] == "skipped"  # exit 99: the input has no rows
    scores = [done.results[("churn_score", k)] for k in range(SHARDS)]
    assert [(score["version"], score["rows"]) for score in scores] == [(champion, 0)] * SHARDS
    assert done.results[("churn_drift", -1)]["drift"]["status"] == "no_rows"
    assert done.states[("ltv_train", -1)] == done.states[("ltv_score", -1)] == "success"


def test_the_days_drift_verdict_merges_every_shard_and_a_drifted_day_fails_churn_drift(
    daily, daily_run, store, tmp_path
):
    """churn_drift's verdict is the one the last shard gave, over all the day's rows; a day whose input drifted
    (monthly spend 30% up) still writes every shard's predictions, and churn_drift fails with 101."""
    verdict = daily_run.results[("churn_drift", -1)]["drift"]
    rows = sum(daily_run.results[("churn_score", k)]["rows"] for k in range(SHARDS))
    assert (verdict["status"], verdict["rows"]) == ("ok", rows)
    last = [daily_run.results[("churn_score", k)]["drift"] for k in range(SHARDS)]
    assert [d["status"] for d in last].count("pending") == SHARDS - 1
    customers = sample(4000, 21, tmp_path).drop(columns="churned")
    customers["monthly_spend"] *= 1.3
    customers.to_parquet(tmp_path / "customers.parquet", row_group_size=1000)
    shutil.copytree(store, tmp_path / "store")
    environ = {"MODELFLEET_CHURN_SCORE_DATA": str(tmp_path / "customers.parquet")}
    done = run(daily, DAY.add(days=3), tmp_path / "store", tmp_path / "pods", environ)
    assert done.state == "failed"
    assert done.states[("churn_drift", -1)] == "failed"
    assert all(done.states[("churn_score", k)] == "success" for k in range(SHARDS))
    failed = json.loads((tmp_path / "pods" / "churn_drift.-1.json").read_text())  # the pod's result file
    assert (failed["exit_code"], failed["drift"]["status"]) == (101, "drifted")
    assert "monthly_spend" in failed["drift"]["drifted"]
    assert done.states[("ltv_train", -1)] == done.states[("ltv_score", -1)] == "success"


def test_a_retrain_that_fails_its_gate_is_skipped_and_score_uses_the_old_champion(daily, daily_run, store, tmp_path):
    """Acceptance of the gate in a DAG: a broken partition (labels shuffled) trains a version that fails
    auc>=0.70; churn_train exits 100 and is skipped, the version stays committed but not promoted, and every
    churn_score shard still scores with the old champion."""
    import numpy as np

    broken = sample(5000, 3, tmp_path)
    broken["churned"] = np.random.default_rng(0).permutation(broken["churned"].to_numpy())
    broken.to_parquet(tmp_path / "broken.parquet")
    shutil.copytree(store, tmp_path / "store")
    champion = daily_run.results[("churn_train", -1)]["version"]
    environ = {"MODELFLEET_CHURN_TRAIN_DATA": str(tmp_path / "broken.parquet")}
    done = run(daily, DAY.add(days=2), tmp_path / "store", tmp_path / "pods", environ)
    assert done.state == "success"
    assert done.states[("churn_train", -1)] == "skipped"
    refused = json.loads((tmp_path / "pods" / "churn_train.-1.json").read_text())  # the pod's result file
    assert (refused["exit_code"], refused["promoted"], refused["gate"]["passed"]) == (100, None, False)
    assert refused["version"] == "modelfleet_daily__20241012T000000"
    assert (tmp_path / "store" / "churn" / "versions" / refused["version"] / "manifest.json").exists()
    for k in range(SHARDS):
        assert done.states[("churn_score", k)] == "success"
        assert done.results[("churn_score", k)]["version"] == champion
    assert done.states[("ltv_train", -1)] == done.states[("ltv_score", -1)] == "success"
