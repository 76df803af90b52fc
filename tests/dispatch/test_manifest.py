"""`modelfleet manifest` describes every model, command and parameter, in step with the code."""

import json
import subprocess
import sys

from dispatch import registry
from dispatch.commandline import specs_for
from dispatch.manifest import build
from shared.contract.annotations import decode


def test_manifest_lists_every_parameter_of_every_command_as_the_code_declares_it():
    """Each command's parameters in the manifest are exactly the parsed signature's, with type and default."""
    manifest = build()
    assert registry.names() == sorted(manifest["models"])
    for name, model in manifest["models"].items():
        cls = registry.load(name, require=False)
        assert list(cls.commands) == list(model["commands"])
        for command, entry in model["commands"].items():
            specs = specs_for(cls, command)
            assert list(specs) == list(entry["parameters"])
            for pname, described in entry["parameters"].items():
                model_name = None if pname in ("store", "config", "dry_run") else name
                carried = {**described}
                assert decode(carried.pop("annotation")) == specs[pname].annotation  # exactly: see test_catalog.py
                assert specs[pname].describe(model_name, command) == carried


def test_manifest_carries_constraints_env_and_exit_codes():
    """A tool can check bounds and find each environment variable and exit code without importing models."""
    manifest = build()
    n_estimators = manifest["models"]["churn"]["commands"]["train"]["parameters"]["n_estimators"]
    assert n_estimators["constraints"] == {"ge": 1, "le": 100_000}
    assert n_estimators["env"] == "MODELFLEET_CHURN_N_ESTIMATORS"
    assert n_estimators["env_command"] == "MODELFLEET_CHURN_TRAIN_N_ESTIMATORS"
    output = manifest["models"]["churn"]["commands"]["score"]["parameters"]["output"]
    assert output["env"] == output["env_command"] == "MODELFLEET_CHURN_SCORE_OUTPUT"
    codes = {"0", "2", "3", "64", "65", "66", "70", "74", "75", "76", "77", "78", "99", "100", "101", "130", "143"}
    assert codes == set(manifest["exit_codes"])


def test_manifest_command_prints_it_without_importing_model_libraries(tmp_path):
    """The CLI prints the same document and imports neither LightGBM, scikit-learn, pandas nor pyarrow."""
    code = (
        "import sys, io, contextlib; from dispatch.cli import main; out = io.StringIO();"
        "code = main(['manifest']);"
        "print([m for m in ('lightgbm', 'sklearn', 'pandas', 'pyarrow') if m in sys.modules], file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert done.stderr.strip().splitlines()[-1] == "[]"
    assert build() == json.loads(done.stdout)


def test_stop_fraction_is_a_flag_exactly_of_the_models_that_stop_early(modelfleet, tmp_path):
    """--stop_fraction sets rows apart for early stopping: a model without --early_stopping_rounds neither shows
    nor takes it (on the command line it is an unknown flag, exit 2), so nobody sets a flag with no effect."""
    for name, model in build()["models"].items():
        train = model["commands"].get("train", {}).get("parameters", {})
        assert ("stop_fraction" in train) == ("early_stopping_rounds" in train), name
        if train and "early_stopping_rounds" not in train:
            done = modelfleet([name, "train", "--stop_fraction=0.2", f"--store={tmp_path}"])
            assert done.returncode == 2, done.stderr
            assert "unknown flag" in done.stderr
