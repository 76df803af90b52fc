"""modelfleet, daily: train churn and ltv, then score with the versions just trained.

    churn_train ──► churn_score   (mapped: one task per shard, --shard=K/4)
    ltv_train   ──► ltv_score

Each task runs one modelfleet command in its own pod of the modelfleet image (see dispatch/airflow.py for
the pod's security context and XCom). Each training run commits the version ``<dag_id>__<ts_nodash>``, so
a retried or cleared run changes nothing; each score task takes that version from its train task's XCom.
ltv does not read churn's predictions, so its chain does not wait for churn's.

The store (MODELFLEET_STORE, MODELFLEET_STORAGE_OPTIONS) comes from the ConfigMap ``modelfleet`` and
credentials from the pod's service account, never from the arguments. Without ``data=`` the commands use
each model's embedded sample; give your table as e.g. ``data="s3://bucket/customers/{{ ds }}.parquet"``.
"""

import pendulum
from airflow.sdk import DAG
from kubernetes.client import models as k8s

from dispatch.airflow import RUN_VERSION, pod_task

IMAGE = "registry.example.com/modelfleet:0.1.0"  # built from this repository's Dockerfile
SHARDS = 4  # churn_score runs as 4 mapped tasks, each scoring its slice of the input (--shard=K/4)
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
):
    churn_train = pod_task(
        "churn_train",
        "churn",
        "train",
        image=IMAGE,
        run_id=RUN_VERSION,
        as_of="{{ ds }}",
        pod_args={"container_resources": TRAIN_RESOURCES},
    )
    churn_score = pod_task(
        "churn_score",
        "churn",
        "score",
        image=IMAGE,
        shards=SHARDS,
        version="{{ ti.xcom_pull(task_ids='churn_train')['version'] }}",  # the version train committed
        as_of="{{ ds }}",
    )
    ltv_train = pod_task(
        "ltv_train",
        "ltv",
        "train",
        image=IMAGE,
        run_id=RUN_VERSION,
        as_of="{{ ds }}",
        pod_args={"container_resources": TRAIN_RESOURCES},
    )
    ltv_score = pod_task(
        "ltv_score",
        "ltv",
        "score",
        image=IMAGE,
        version="{{ ti.xcom_pull(task_ids='ltv_train')['version'] }}",
        as_of="{{ ds }}",
    )

    churn_train >> churn_score
    ltv_train >> ltv_score
