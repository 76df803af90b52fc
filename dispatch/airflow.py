"""Airflow tasks that run one modelfleet command each, in its own pod, for DAG authors.

::

    from dispatch.airflow import RUN_VERSION, pod_task

    train = pod_task("churn_train", "churn", "train", image=IMAGE, run_id=RUN_VERSION, as_of="{{ ds }}")
    score = pod_task(
        "churn_score", "churn", "score", image=IMAGE, shards=4,
        version="{{ ti.xcom_pull(task_ids='churn_train')['version'] }}",
    )
    train >> score

``pod_task`` checks the call like ``dispatch.argv`` when Airflow parses the DAG file, so a wrong flag or
value is an import error with the dispatcher's message. Jinja templates are checked as far as a parse can:
flag name, syntax, the names they use, and for values Airflow knows from the run alone (``ds``, ``ts_nodash``
...), the type, by rendering them for a sample run. Values known only when the task runs (XCom, params,
Variables) are checked by the command line when the pod starts (exit 64 before any work).

The models, commands and flags are those of the image's manifest (``modelfleet manifest``, written when the image
is built): give its path as ``manifest=`` or in ``MODELFLEET_MANIFEST`` (the argument wins). The Airflow environment
then needs no model, nor any model's libraries, and a new model or flag in the image needs only its new manifest.
Without either, the models installed beside Airflow are used.

Needs ``pip install 'modelfleet[airflow]'``. Airflow is imported when ``pod_task`` is called, never by
``import dispatch``.
"""

import contextlib
import difflib
import os
from collections.abc import Mapping
from typing import Any

from dispatch.commandline import Catalog
from shared.errors import BadArgument, NothingToDo, NotPromoted, UsageError

# The version id a training run commits: ``<dag_id>__<ts_nodash>``, one per DAG and logical date, so a retry
# or a cleared run commits nothing new. Airflow's run ids may hold characters a version id refuses (and
# ':' and '+' make awkward object keys); this holds none. It needs a run with a logical date.
RUN_VERSION = "{{ dag.dag_id }}__{{ ts_nodash }}"
UID = 10001  # the image's user (Dockerfile APP_UID and APP_GID)
# Skipped, not failed (and never retried): 99, the input has no rows; 100, train's gate kept the new version
# from its alias (a retry would read the same verdict).
SKIP_EXIT_CODES = (NothingToDo.exit_code, NotPromoted.exit_code)
SCRATCH = "/tmp"  # noqa: S108 - an emptyDir mounted there: the only writable path besides the store
_OWN = ("task_id", "image", "cmds", "arguments")  # set from pod_task's own arguments, never from pod_args
_MARKS = ("{{", "{%", "{#")
MANIFEST_ENV = "MODELFLEET_MANIFEST"  # the manifest's path, when pod_task is given none


def pod_task(
    task_id: str,
    model: str,
    command: str,
    *,
    image: str,
    shards: int | None = None,
    pod_args: Mapping[str, Any] | None = None,
    manifest: str | os.PathLike[str] | None = None,
    **params: Any,
) -> Any:
    """Return a KubernetesPodOperator running ``modelfleet MODEL COMMAND --param=value ...`` in ``image``.

    With ``shards=N``, return its mapped form: N tasks, one per ``--shard=K/N`` (K = 0 ... N-1). The pod
    runs as the image's non-root user with a read-only root filesystem, no privilege escalation, no
    capabilities, and an emptyDir at /tmp; its JSON result is pushed to XCom; exit 99 (no input rows) and
    100 (train's gate refused the promotion) skip the task. ``pod_args`` are more KubernetesPodOperator
    arguments (namespace, env_from, container_resources ...); they win over these defaults, and its volumes
    and mounts are added to /tmp's. ``manifest`` is the path of the image's ``modelfleet manifest`` output that
    the call is checked against (default: ``$MODELFLEET_MANIFEST``, else the models installed here).
    """
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

    extra = dict(pod_args or {})
    taken = [key for key in _OWN if key in extra]
    if taken:
        msg = f"pod_args may not set {', '.join(taken)}: pod_task sets them from its own arguments"
        raise UsageError(msg)
    catalog = catalog_for(manifest)
    tokens, templates = _tokens(catalog, model, command, params)
    if "shard" in params and shards is not None:
        msg = f"give either shards={shards} or shard={params['shard']!r} to pod_task, not both"
        raise UsageError(msg)
    defaults = _defaults()
    kwargs = {**defaults, **extra, "task_id": task_id, "image": image, "cmds": ["modelfleet"]}
    for key in ("volumes", "volume_mounts"):
        kwargs[key] = [*defaults[key], *extra.get(key, [])]
    if shards is None:
        task = KubernetesPodOperator(arguments=tokens, **kwargs)
    else:
        kwargs.setdefault("map_index_template", "{{ task.arguments[-1] | replace('--', '') }}")
        arguments = [tokens + catalog.argv(model, command, shard=shard)[2:] for shard in _shards(shards)]
        task = KubernetesPodOperator.partial(**kwargs).expand(arguments=arguments)
    _check_templates(task, catalog.specs(model, command), templates)
    return task


def argv(model: str, command: str, *, manifest: str | os.PathLike[str] | None = None, **params: Any) -> list[str]:
    """``dispatch.argv`` checked against the image's manifest (``manifest``, else ``$MODELFLEET_MANIFEST``, else the
    models installed here): the arguments of a KubernetesPodOperator of one's own."""
    return catalog_for(manifest).argv(model, command, **params)


def catalog_for(manifest: str | os.PathLike[str] | None = None) -> Catalog:
    """What a call is checked against: the manifest at ``manifest``, else at ``$MODELFLEET_MANIFEST``, else the
    models installed here; ConfigError (78) naming the path if that manifest is missing or unusable."""
    path = manifest if manifest is not None else os.environ.get(MANIFEST_ENV) or None
    return Catalog.installed() if path is None else Catalog.from_manifest(path)


def _tokens(catalog: Catalog, model: str, command: str, params: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    """The argument list, checked like ``dispatch.argv``; templated values are kept as written."""
    tokens = catalog.argv(model, command)
    templates = {}
    for name, value in params.items():
        if isinstance(value, str) and any(mark in value for mark in _MARKS):
            with contextlib.suppress(BadArgument):  # its value is checked below, rendered for a sample run
                catalog.argv(model, command, **{name: value})  # the flag's name, checked as the dispatcher does
            templates[name] = value
            tokens.append(f"--{name}={value}")
        else:
            tokens += catalog.argv(model, command, **{name: value})[2:]
    return tokens, templates


def _shards(count: Any) -> list[str]:
    from shared.tables.shards import MAX_SHARDS

    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_SHARDS:
        msg = f"shards must be a whole number >= 1 and <= {MAX_SHARDS} (the number of mapped tasks); got {count!r}"
        raise BadArgument(msg)
    return [f"{index}/{count}" for index in range(count)]


def _defaults() -> dict[str, Any]:
    """The pod settings every modelfleet task gets: XCom, skip on 99 and 100, a restricted security context."""
    from kubernetes.client import models as k8s

    container = k8s.V1SecurityContext(
        allow_privilege_escalation=False,
        read_only_root_filesystem=True,
        capabilities=k8s.V1Capabilities(drop=["ALL"]),
    )
    return {
        "do_xcom_push": True,  # the command writes its JSON result to /airflow/xcom/return.json
        "skip_on_exit_code": list(SKIP_EXIT_CODES),
        "security_context": k8s.V1PodSecurityContext(
            run_as_non_root=True,
            run_as_user=UID,
            run_as_group=UID,
            fs_group=UID,
            seccomp_profile=k8s.V1SeccompProfile(type="RuntimeDefault"),
        ),
        "container_security_context": container,
        "xcom_sidecar_container_security_context": container,
        "volumes": [k8s.V1Volume(name="scratch", empty_dir=k8s.V1EmptyDirVolumeSource())],
        "volume_mounts": [k8s.V1VolumeMount(name="scratch", mount_path=SCRATCH)],
    }


def _check_templates(task: Any, specs: Mapping[str, Any], templates: dict[str, str]) -> None:
    """Check each templated value as far as a parse can: syntax, names, and the type for a sample run."""
    import jinja2
    import jinja2.meta
    from airflow.sdk import Context

    dag = task.get_dag()
    env = task.get_template_env(dag)
    known = set(Context.__annotations__) | set(env.globals)
    for name, text in templates.items():
        try:
            used = jinja2.meta.find_undeclared_variables(env.parse(text))
        except jinja2.TemplateSyntaxError as exc:
            msg = f"--{name}: the template {text!r} is not valid Jinja: {exc.message}"
            raise BadArgument(msg) from None
        unknown = sorted(used - known)
        if unknown:
            close = difflib.get_close_matches(unknown[0], known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            msg = f"--{name}: the template {text!r} uses {unknown[0]!r}{hint}, which Airflow does not define"
            raise BadArgument(msg)
        rendered = _render_for_sample_run(env, name, text, dag)
        if rendered is not None:
            specs[name].from_text(rendered, f"--{name} (the template {text!r} for a sample run)")


def _render_for_sample_run(env: Any, name: str, text: str, dag: Any) -> str | None:
    """Render ``text`` for a sample scheduled run; None if it uses values only a real run has (XCom ...)."""
    import jinja2
    import pendulum

    run_time: list[str] = []

    class RunTimeValue(jinja2.ChainableUndefined):
        """A value known only when the task runs: XCom, params, Variables, the dag_run."""

        unsafe_callable = alters_data = False  # lets the sandbox call it: ti.xcom_pull(...)

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            run_time.append(self._undefined_name or "")

        def __call__(self, *args: Any, **kwargs: Any) -> "RunTimeValue":  # type: ignore[override]
            return self

    start = pendulum.datetime(2024, 10, 10, tz="UTC")
    sample = {
        "ds": start.strftime("%Y-%m-%d"),
        "ds_nodash": start.strftime("%Y%m%d"),
        "ts": start.isoformat(),
        "ts_nodash": start.strftime("%Y%m%dT%H%M%S"),
        "ts_nodash_with_tz": start.isoformat().replace("-", "").replace(":", ""),
        "logical_date": start,
        "data_interval_start": start,
        "data_interval_end": start.add(days=1),
        "run_id": f"scheduled__{start.isoformat()}",
        **({"dag": dag} if dag is not None else {}),
    }
    try:
        rendered = env.overlay(undefined=RunTimeValue).from_string(text).render(sample)
    except Exception as exc:  # noqa: BLE001 - whatever the template raises, Airflow would meet it too
        if run_time:
            return None  # it computes with a value only a real run has: the pod checks it
        msg = f"--{name}: the template {text!r} fails for a sample run: {type(exc).__name__}: {exc}"
        raise BadArgument(msg) from None
    return None if run_time else str(rendered)
