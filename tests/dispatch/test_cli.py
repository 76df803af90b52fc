"""The command line: usage errors exit 2 before any work, in one line, with the valid choices."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from dispatch import registry

NEEDS_LIGHTGBM = pytest.mark.skipif(importlib.util.find_spec("lightgbm") is None, reason="needs the churn extra")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["nosuch", "train"], "unknown model 'nosuch'; choose from: churn, ltv, offer, segment"),
        (["chrun", "train"], "unknown model 'chrun' (did you mean 'churn'?)"),
        (["churn", "nosuch"], "choose from: train, score, evaluate, compare, drift, compile, report, describe, sample"),
        (
            ["churn", "train", "--nosuch=1"],
            "unknown flag for 'churn train': '--nosuch'; choose from: --store",
        ),
        (["churn", "train", "--n_estimator=5"], "(did you mean '--n_estimators'?)"),
        (["churn", "train", "--seed=1", "--seed=2"], "flag --seed given more than once"),
        (["churn", "train", "data.parquet"], "unexpected argument 'data.parquet'"),
        (["churn"], "missing command for 'churn'; choose from: train"),
        (["--store=x"], "expected a model name first"),
        (["segment", "train", "--n_estimators=5"], "(did you mean '--n_segments'?)"),
    ],
)
def test_usage_errors_exit_2_with_one_line_and_no_work(modelfleet, tmp_path, args, expected):
    """Unknown model, command or flag: exit 2, one stderr line naming the choices, nothing written."""
    done = modelfleet(args, tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert expected in done.stderr
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == [], "a usage error must not start any work"


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--help"], 0),
        (["segment", "--help"], 0),
        (["churn", "--help"], 0),
        (["churn", "train", "-h"], 0),
        (["churn", "score", "--help"], 0),
        (["manifest"], 0),
        (["nosuch", "train"], 2),
        (["churn", "train", "--n_estimators=abc"], 64),
        (["churn", "score", "--shard=4/4"], 64),
        (["churn", "score", "--max_unseen=2"], 64),
        (["churn", "drift", "--help"], 0),
        (["churn", "score", "--on_drift=maybe"], 64),
    ],
)
def test_help_and_argument_errors_import_no_model_library(tmp_path, args, code):
    """Help, the manifest and argument errors need neither LightGBM, scikit-learn, pandas nor pyarrow, nor the
    store's backends, the manifest's model or numpy: the commands import those when they run."""
    script = (
        "import sys; from dispatch.cli import main; code = main(sys.argv[1:]);"
        "heavy = ['lightgbm', 'sklearn.ensemble', 'sklearn', 'pandas', 'pyarrow', 'numpy', 'fsspec',"
        " 'shared.storage.manifest', 'shared.storage.backends', 'shared.storage.pins', 'shared.monitoring.drift',"
        " 'shared.monitoring.tallies'];"
        "print(code, [m for m in heavy if m in sys.modules], file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, cwd=tmp_path)
    assert done.stderr.strip().splitlines()[-1] == f"{code} []"


def test_root_help_lists_every_model_with_its_summary(modelfleet, tmp_path):
    """`modelfleet --help` names each model with its one-line summary."""
    done = modelfleet(["--help"], tmp_path)
    text = done.stdout  # help is what was asked for: stdout
    assert done.returncode == 0
    for name in registry.names():
        assert f"\n     {name}\n" in text
    assert "probability that a customer leaves" in text


def test_model_help_lists_only_commands(modelfleet, tmp_path):
    """`modelfleet churn --help` lists the five commands and not the class's declarations."""
    done = modelfleet(["churn", "--help"], tmp_path)
    text = done.stdout  # help is what was asked for: stdout
    for command in registry.load("churn", require=False).commands:
        assert f"\n     {command}\n" in text
    assert "categorical" not in text


def test_command_help_lists_hyperparameters_with_constraints(modelfleet, tmp_path):
    """`modelfleet churn train --help` shows each hyperparameter's type, default and bounds."""
    done = modelfleet(["churn", "train", "--help"], tmp_path)
    text = done.stdout  # help is what was asked for: stdout
    assert "--n_estimators=N_ESTIMATORS" in text
    assert "Boosting rounds. [int; >= 1 and <= 100000; env MODELFLEET_CHURN_N_ESTIMATORS]" in text
    assert "Default: 200" in text


@pytest.mark.skipif(importlib.util.find_spec("lightgbm") is not None, reason="only where churn's extra is absent")
def test_model_without_its_extra_says_what_to_install(modelfleet, tmp_path):
    """A model whose extra is not installed fails with exit 78 and the pip command to fix it."""
    done = modelfleet(["churn", "train"], tmp_path)
    assert done.returncode == 78
    assert "install it with: pip install 'modelfleet[churn]'" in done.stderr
    assert len(done.stderr.splitlines()) == 1


@NEEDS_LIGHTGBM
def test_missing_data_file_names_the_path_and_writes_nothing(modelfleet, tmp_path):
    """A --data path that does not exist: exit 66, the path named, no version committed."""
    done = modelfleet(["churn", "train", f"--data={tmp_path / 'nope.parquet'}", f"--store={tmp_path / 's'}"], tmp_path)
    assert done.returncode == 66
    assert "input not found" in done.stderr
    assert "nope.parquet" in done.stderr
    assert not (tmp_path / "s").exists()


@NEEDS_LIGHTGBM
def test_console_script_and_module_give_the_same_result(modelfleet, tmp_path):
    """`modelfleet` and `python -m dispatch` are the same program."""
    script = subprocess.run(
        [str(Path(sys.executable).with_name("modelfleet")), "churn", "describe"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    module = modelfleet(["churn", "describe"], tmp_path, process=True)
    assert 0 == script.returncode == module.returncode
    assert json.loads(script.stdout) == json.loads(module.stdout)


HELPS = [
    (["--help"], "modelfleet MODEL COMMAND [--flag=value ...]"),
    (["churn", "--help"], "modelfleet churn COMMAND [--flag=value ...]"),
    (["churn", "train", "--help"], "modelfleet churn train [--flag=value ...]"),
    (["churn", "score", "-h"], "modelfleet churn score [--flag=value ...]"),
    (["segment", "describe", "--help"], "modelfleet segment describe [--flag=value ...]"),
    (["manifest", "--help"], "modelfleet manifest"),
    (["new", "--help"], "modelfleet new NAME [--flag=value ...]"),
]


@pytest.mark.parametrize(("args", "synopsis"), HELPS)
def test_help_is_clean_with_the_programs_synopsis(modelfleet, tmp_path, args, synopsis):
    """No Fire INFO line, no Fire synopsis (`- COMMAND`, `<flags>`): the program's own usage line."""
    done = modelfleet(args, tmp_path)
    assert done.returncode == 0
    assert "INFO" not in done.stdout + done.stderr
    assert "\x1b[" not in done.stdout
    lines = done.stdout.splitlines()
    assert lines[lines.index("SYNOPSIS") + 1] == f"    {synopsis}"
    assert lines[lines.index("SYNOPSIS") + 2] == ""
    assert " - COMMAND" not in done.stdout
    assert "<flags>" not in done.stdout


CALLS = [(model, command) for model in registry.names() for command in registry.load(model, require=False).commands]


@pytest.mark.parametrize(("model", "command"), CALLS)
def test_every_alias_help_shows_is_accepted_and_global_flags_are_listed(modelfleet, tmp_path, model, command):
    """Each `-x, --name` help shows is what `-x` means on the command line; --store, --config, --dry_run and
    --debug are in every command's help."""
    import re

    from dispatch.commandline import spaced_values, specs_for, split_flag

    done = modelfleet([model, command, "--help"], tmp_path)
    assert done.returncode == 0, done.stderr
    specs = specs_for(registry.load(model, require=False), command)
    shown = re.findall(r"^    -(\w), --(\w+)", done.stdout, re.MULTILINE)
    for short, name in shown:
        if specs[name].flag:
            assert split_flag(f"-{short}", command, specs) == (name, True)
        else:
            assert split_flag(f"-{short}=v", command, specs) == (name, "v")
            assert spaced_values([f"-{short}", "v"], specs) == [f"--{name}=v"]
    section = done.stdout.split("\nGLOBAL FLAGS\n", 1)[1]
    for flag in ("--store=STORE", "--config=CONFIG", "--dry_run", "--debug"):
        assert re.search(rf"^    (-\w, )?{flag}\n        \S", section, re.MULTILINE), flag
    assert "-h, " not in done.stdout  # -h is help


def test_model_help_names_the_global_flags(modelfleet, tmp_path):
    done = modelfleet(["churn", "--help"], tmp_path)
    assert "--store=URL, --config=FILE, --dry_run and --debug" in done.stdout


def test_flag_space_value_reaches_the_command(modelfleet, tmp_path):
    """`--flag value` runs the command as `--flag=value` does (here gc on an empty store)."""
    spaced = modelfleet(["churn", "gc", "--keep", "3", "--store", str(tmp_path / "s")], tmp_path)
    equals = modelfleet(["churn", "gc", "--keep=3", f"--store={tmp_path / 's'}"], tmp_path)
    assert (spaced.returncode, spaced.stdout) == (equals.returncode, equals.stdout)
    assert spaced.returncode != 2, spaced.stderr


@NEEDS_LIGHTGBM
def test_describe_text_is_short_and_readable_and_json_stays_the_default(modelfleet, tmp_path):
    """`describe --format=text` shows each version, when it was trained, its rows, metrics, aliases and signature
    in a few lines; the result file still gets the JSON object; without the flag stdout is one JSON object."""
    store = tmp_path / "store"
    env = {"MODELFLEET_STORE": str(store)}
    assert modelfleet(["churn", "train", "--n_estimators", "3"], tmp_path, env).returncode == 0
    assert modelfleet(["churn", "promote", "--alias", "champion"], tmp_path, env).returncode == 0
    env["MODELFLEET_RESULT_PATH"] = str(tmp_path / "result.json")
    text = modelfleet(["churn", "describe", "--format=text"], tmp_path, env)
    assert text.returncode == 0, text.stderr
    version = json.loads((tmp_path / "result.json").read_text())["latest"]
    lines = text.stdout.splitlines()
    assert len(text.stdout) < 2000
    header = next(line for line in lines if line.startswith("VERSION"))
    for column in ("TRAINED (UTC)", "ROWS", "AUC", "LOG_LOSS", "ALIASES", "SIGNATURE"):
        assert column in header
    row = next(line for line in lines if line.startswith(version))
    assert "champion, latest" in row
    assert "unsigned" in row
    assert "4000+1000 (sample)" in row
    plain = modelfleet(["churn", "describe"], tmp_path, {"MODELFLEET_STORE": str(store)})
    assert json.loads(plain.stdout)["latest"] == version
    assert len(plain.stdout.strip().splitlines()) == 1
