"""End to end: what `modelfleet new` generates installs, passes its own tests and runs, with no edit.

Slow (each installs into a fresh environment), so only the `scaffold` tox env runs them: a separate package in a
fresh virtual environment (pip-installed beside modelfleet, then its pytest), and a model generated inside a copy
of this checkout (its tox environment, and the checkout's ruff).
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def run(argv, cwd, env=None, timeout=1800):
    """Run a command; fail with its last output if it exits non-zero."""
    done = subprocess.run([str(arg) for arg in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, (
        f"{' '.join(map(str, argv))} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done


def outside_tox():
    """This environment without what the running tox set, so that a nested tox or venv is a fresh one."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("TOX_", "VIRTUAL_ENV", "PYTHONPATH", "UV_"))}


def test_generated_package_with_two_models_installs_and_passes_its_tests(modelfleet, tmp_path):
    """`new acme --package=DIR --requirement=modelfleet @ file://REPO`, then `new basket --family=clustering` into the
    same package; pip installs the package alone into a fresh venv (modelfleet comes from its requirement, no
    index has it), then the package's pytest (both models' conformance suites) and each model's train and score."""
    requirement = f"--requirement=modelfleet @ {REPO.as_uri()}"
    done = modelfleet(["new", "acme", "--package=acme-models", requirement], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    added = modelfleet(["new", "basket", "--family=clustering", "--package=."], cwd=tmp_path / "acme-models")
    assert added.returncode == 0, added.stderr
    env = outside_tox()
    run([sys.executable, "-m", "uv", "venv", "--quiet", "--python", sys.executable, "venv"], tmp_path, env)
    python = tmp_path / "venv" / "bin" / "python"
    run(
        [sys.executable, "-m", "uv", "pip", "install", "--quiet", "--python", python, "./acme-models[test]"],
        tmp_path,
        env,
    )
    run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "acme-models"], tmp_path, env)
    modelfleet_script = tmp_path / "venv" / "bin" / "modelfleet"
    for name in ("acme", "basket"):
        trained = json.loads(run([modelfleet_script, name, "train", "--store=store"], tmp_path, env).stdout)
        assert trained["model"] == name
        scored = json.loads(run([modelfleet_script, name, "score", "--store=store"], tmp_path, env).stdout)
        assert scored["version"] == trained["version"]


def test_model_generated_in_the_checkout_passes_its_tox_env(modelfleet, tmp_path):
    """`new NAME` in a copy of this checkout, then `tox -e NAME` there, and the checkout's ruff on it and on a
    multiclass model generated beside it (long names: no generated line may pass the line-length limit)."""
    name = "customer_lifetime_value_v2"
    copy = tmp_path / "repo"
    ignore = shutil.ignore_patterns(".git", ".tox", ".venv", "__pycache__", "*.egg-info", "dist", "build", ".*_cache")
    shutil.copytree(REPO, copy, ignore=ignore)
    done = modelfleet(["new", name], cwd=copy)
    assert done.returncode == 0, done.stderr
    multiclass = modelfleet(["new", "next_best_offer_multiclass_v2", "--family=multiclass"], cwd=copy)  # ruff only
    assert multiclass.returncode == 0, multiclass.stderr
    env = outside_tox()
    run([sys.executable, "-m", "ruff", "check", "models", "tests/models"], copy, env)
    run([sys.executable, "-m", "ruff", "format", "--check", "models", "tests/models"], copy, env)
    tox = run([sys.executable, "-m", "tox", "-e", name], copy, env)
    assert f"{name}: OK" in tox.stdout
