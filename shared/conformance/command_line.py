"""Checks of the command line and of ``describe``: the model is registered, its commands run through both
entry points, and ``describe`` lists its parameters and versions."""

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

from shared.conformance.helpers import _expect, _trained, _unlabelled
from shared.contract import params
from shared.errors import MissingInput
from shared.families.model import Model
from shared.tables.results import to_json


def check_describe(model_cls: type[Model], workdir: Path) -> None:
    """describe lists parameters and stored versions, and says which version is latest."""
    model = model_cls(store=str(Path(workdir) / "store"))
    empty = model.describe()
    assert empty["versions"] == [] and empty["latest"] is None, "a new store should hold no versions"
    _expect(MissingInput, lambda: model.score(_unlabelled(model_cls, 0, 10)), "train' first")
    _, trained = _trained(model_cls, workdir)
    described = model.describe()
    assert described["latest"] == trained["version"], "describe does not show the new version as latest"
    train = described["commands"]["train"]["parameters"]
    missing = {spec.name for spec in params.hyperparameters(model_cls.Params)} - set(train)
    assert not missing, f"describe does not list the hyperparameters {missing}"
    json.loads(to_json(described))


def check_command_line(model_cls: type[Model], workdir: Path) -> None:
    """train, score, evaluate and describe run through `modelfleet` and `python -m dispatch` (if registered)."""
    registered = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="modelfleet.models")}
    target = f"{model_cls.__module__.removesuffix('.model')}:{model_cls.__qualname__}"
    assert model_cls.name in registered, (
        f"{model_cls.__name__} (name {model_cls.name!r}) is not registered under its name; registered: "
        f'{registered}. Add `{model_cls.name} = "{target}"` under [project.entry-points."modelfleet.models"]'
    )
    script = Path(sys.executable).with_name("modelfleet")
    python_m = [sys.executable, "-m", "dispatch"]
    env = dict(os.environ)
    rows = getattr(model_cls, "_conformance_rows", None)  # a model checked on rows of its own: pass them
    given: dict[str, list[str]] = {"train": [], "score": [], "evaluate": []}
    if rows is not None:
        rows.to_parquet(Path(workdir) / "labelled.parquet", index=False)
        unlabelled = rows.drop(columns=[model_cls.label]) if model_cls.label else rows
        unlabelled.to_parquet(Path(workdir) / "unlabelled.parquet", index=False)
        given = {"train": ["--data=labelled.parquet"], "score": ["--data=unlabelled.parquet"]}
        given["evaluate"] = ["--data=labelled.parquet"]

    def commands(run: int, entry: list[str]) -> None:
        """Each command in turn through one entry point, in a store of its own."""
        store = {**env, "MODELFLEET_STORE": str(Path(workdir) / f"store-{run}")}
        for command in (["train", f"--run_id=conformance-{run}"], ["score"], ["evaluate"], ["describe"]):
            argv = [*entry, model_cls.name, *command, *given.get(command[0], [])]
            done = subprocess.run(argv, capture_output=True, text=True, env=store, cwd=workdir, timeout=600)
            assert done.returncode == 0, f"{' '.join(argv)} exited {done.returncode}: {done.stderr[-500:]}"
            result = json.loads(done.stdout)
            assert result["model"] == model_cls.name, f"{' '.join(argv)} printed {done.stdout[:200]}"

    # The two entry points side by side: each process spends most of its time starting (imports) on one CPU.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        runs = [pool.submit(commands, run, entry) for run, entry in enumerate(([str(script)], python_m))]
        for run in runs:
            run.result()  # a failed command's AssertionError, raised here
