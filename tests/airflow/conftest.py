"""Fixtures for the example DAG under a real Airflow: its DagBag, the manifest, and pods run as local processes.

These tests need Airflow and a throwaway AIRFLOW_HOME with a migrated database; ``tox -e airflow`` sets up
both. Anywhere else they are not collected, so that no test ever touches a developer's own Airflow.

As in a real scheduler's environment, no model is usable here: the env installs modelfleet with the ``airflow``
extra only (no LightGBM, no scikit-learn), and :class:`NoModels` makes ``import models`` fail in this process,
so that every check of a DAG must come from the image's manifest. The "image" is another venv, with the churn
and ltv models, at ``$MODELFLEET_IMAGE_BIN``: its ``modelfleet`` is what the stand-in pods run.
"""

import datetime as dt
import importlib.abc
import importlib.util
import json
import operator
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[2] / "examples" / "dags"
SHIPPED = EXAMPLES / "modelfleet-manifest.json"  # the image's manifest, shipped beside the example DAG
BLOCKED = ("models",)  # the image's model code: never imported beside Airflow


class NoModels(importlib.abc.MetaPathFinder):
    """Refuses to import the model packages, as if modelfleet's wheel had none: Airflow's env has only the core."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (no model is installed beside Airflow)", name=name)


if importlib.util.find_spec("airflow") is None or "AIRFLOW_HOME" not in os.environ:
    collect_ignore_glob = ["test_*.py"]
else:
    sys.meta_path.insert(0, NoModels())
    for loaded in [name for name in sys.modules if name.split(".")[0] in BLOCKED]:
        del sys.modules[loaded]


@pytest.fixture(scope="session")
def image_bin() -> Path:
    """The bin folder of the "image": a venv with the churn and ltv models, apart from Airflow's."""
    folder = os.environ.get("MODELFLEET_IMAGE_BIN")
    assert folder, "set MODELFLEET_IMAGE_BIN to the image venv's bin folder (tox -e airflow does)"
    assert (Path(folder) / "modelfleet").exists(), f"no modelfleet entry point in {folder}"
    return Path(folder)


@pytest.fixture(scope="session")
def dagbag():
    """The example DAG folder, parsed by Airflow as its DAG processor does."""
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=EXAMPLES)


@pytest.fixture(scope="session")
def daily(dagbag):
    """The example DAG ``modelfleet_daily``."""
    return dagbag.get_dag("modelfleet_daily")


@pytest.fixture(scope="session")
def manifest(image_bin):
    """What the image's own ``modelfleet manifest`` says every model, command and flag accepts."""
    done = subprocess.run([image_bin / "modelfleet", "manifest"], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


@pytest.fixture(scope="session")
def problems(manifest):
    """A function listing what ``modelfleet manifest`` would refuse in one argument list.

    Unrendered arguments may hold Jinja templates: only their flag names can be checked.
    """
    return lambda arguments, rendered=True: _problems(arguments, manifest, rendered)


def _problems(arguments: list[str], manifest: dict, rendered: bool) -> list[str]:
    model, command, *flags = arguments
    if model not in manifest["models"] or command not in manifest["models"][model]["commands"]:
        return [f"unknown command {model} {command}"]
    parameters = manifest["models"][model]["commands"][command]["parameters"]
    found = []
    for flag in flags:
        name, _, value = flag.removeprefix("--").partition("=")
        if name not in parameters:
            found.append(f"unknown flag --{name}")
        elif (rendered or "{{" not in value) and not _fits(value, parameters[name]):
            found.append(f"--{name}={value} does not fit {parameters[name]}")
    return found


_COMPARE = {"ge": operator.ge, "gt": operator.gt, "le": operator.le, "lt": operator.lt}


def _fits(value: str, parameter: dict) -> bool:
    """Whether the text fits the parameter as the manifest describes it: its type, bounds and choices."""
    kind = parameter["type"]
    try:
        if kind in ("int", "float"):
            number = int(value) if kind == "int" else float(value)
            return all(_COMPARE[key](number, limit) for key, limit in parameter.get("constraints", {}).items())
        if kind.startswith("date "):
            dt.date.fromisoformat(value)
        elif kind.startswith("datetime"):
            dt.datetime.fromisoformat(value)
        elif kind == "K/N":
            index, count = map(int, value.split("/"))
            return 0 <= index < count
        elif kind == "bool":
            return value.lower() in ("true", "false", "yes", "no", "1", "0", "on", "off")
    except ValueError:
        return False
    if "choices" in parameter:
        return value in map(str, parameter["choices"])
    return value != "" and "{{" not in value  # text: anything but empty, and never a template left unrendered
