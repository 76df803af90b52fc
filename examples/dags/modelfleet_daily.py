"""modelfleet, daily: retrain churn and ltv; score churn with its champion and ltv with the version just trained.

    churn_train ──► churn_score (mapped: one task per shard, --shard=K/4) ──► churn_drift
    ltv_train   ──► ltv_score

Each task runs one modelfleet command in its own pod of the modelfleet image (see dispatch/airflow.py for
the pod's security context and XCom). Each training run commits the version ``<dag_id>__<ts_nodash>``, so
a retried or cleared run changes nothing. ltv does not read churn's predictions, so its chain does not wait
for churn's. The two chains show the two ways to choose what scores:

- churn, champion/challenger: the retrain is promoted to ``champion`` only if it passes its gate (AUC of at
  least 0.70 on its held-out rows, and not worse than the champion on those same rows); if it fails, train
  exits 100 and is skipped, and ``churn_score`` (trigger rule ``none_failed``) still runs, with the old
  champion. Every shard of a run scores with the version its first shard found (pinned in the run's output
  folder), even if the champion moves mid-run. ``churn_drift`` then merges the shards' drift counts into the
  day's verdict (its XCom) and fails (exit 101, no retry) when the day's input no longer looks like the
  training rows: the predictions are written, and the red task says to look at them before they are used.
- ltv, latest retrain: its score task takes the version its train task committed, from XCom.

Each call is checked when Airflow parses this file against the image's manifest, ``modelfleet-manifest.json``
beside it (written by the image's ``modelfleet manifest``; ship a new one with each new image): the Airflow
environment needs ``modelfleet[airflow]`` only, no model and no model's libraries.

The store (MODELFLEET_STORE, MODELFLEET_STORAGE_OPTIONS) comes from the ConfigMap ``modelfleet`` and
credentials from the pod's service account, never from the arguments. Without ``data=`` the commands use
each model's embedded sample; give your table as e.g. ``data="s3://bucket/customers/{{ ds }}.parquet"``.
"""

from pathlib import Path

import pendulum
from airflow.sdk import DAG
from kubernetes.client import models as k8s

from dispatch.airflow import RUN_VERSION, pod_task

IMAGE = "registry.example.com/modelfleet:0.1.0"  # built from this repository's Dockerfile
SHARDS = 4  # churn_score runs as 4 mapped tasks, each scoring its slice of the input (--shard=K/4)
MANIFEST = Path(__file__).with_name("modelfleet-manifest.json")  # that image's `modelfleet manifest`
TRAIN_RESOURCES = k8s.V1ResourceRequirements(requests={"cpu": "2", "memory": "4Gi"}, limits={"memory": "4Gi"})


with DAG(
    dag_id="modelfleet_daily",
    schedule="@daily",
    start_date=pendulum.datetime(2024, 10, 1, tz="UTC"),
    catchup=False,
    default_args={
        "namespace": "modelfleet",
        "service_account_name": "modelfleet",
        "env_from": [k8s.V1EnvFromSource(config_map_ref=k8s.V1ConfigMapEnvSource(name="modelfleet"))],
        "retries": 2,
    },
    tags=["modelfleet"],
    params={"predictions": "s3://lake/predictions"},  # where scores go: one folder per model and day
):
    churn_train = pod_task(
        "churn_train",
        "churn",
        "train",
        image=IMAGE,
        manifest=MANIFEST,
        run_id=RUN_VERSION,
        as_of="{{ ds }}",
        promote="champion",
        gate="auc>=0.70",
        against="champion",
        pod_args={"container_resources": TRAIN_RESOURCES},
    )
    churn_score = pod_task(
        "churn_score",
        "churn",
        "score",
        image=IMAGE,
        manifest=MANIFEST,
        shards=SHARDS,
        version="champion",  # whatever the gate left there: the new version, or the old champion
        output="{{ params.predictions }}/churn/{{ ds }}",
        as_of="{{ ds }}",
        pod_args={"trigger_rule": "none_failed"},  # also after a train its gate skipped (exit 100)
    )
    churn_drift = pod_task(
        "churn_drift",
        "churn",
        "drift",
        image=IMAGE,
        manifest=MANIFEST,
        output="{{ params.predictions }}/churn/{{ ds }}",
        on_drift="fail",
        pod_args={"retries": 0},  # the same counts give the same verdict: a retry cannot help
    )
    ltv_train = pod_task(
        "ltv_train",
        "ltv",
        "train",
        image=IMAGE,
        manifest=MANIFEST,
        run_id=RUN_VERSION,
        as_of="{{ ds }}",
        pod_args={"container_resources": TRAIN_RESOURCES},
    )
    ltv_score = pod_task(
        "ltv_score",
        "ltv",
        "score",
        image=IMAGE,
        manifest=MANIFEST,
        version="{{ ti.xcom_pull(task_ids='ltv_train')['version'] }}",
        as_of="{{ ds }}",
    )

    churn_train >> churn_score >> churn_drift
    ltv_train >> ltv_score
