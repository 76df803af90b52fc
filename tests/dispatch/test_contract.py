"""The orchestrator's contract: exit codes, one-line errors, one JSON object on stdout, the result file."""

import importlib.util
import json
import os
import subprocess
import sys

import pytest

HAS_CHURN = importlib.util.find_spec("lightgbm") is not None
NEEDS_CHURN = pytest.mark.skipif(not HAS_CHURN, reason="needs the churn extra")

CONFIGS = {
    "malformed.yaml": "train: [n_estimators: 3\n",
    "unknown-param.yaml": "train:\n  n_estimatorz: 3\n",
    "unknown-command.json": '{"fit": {"n_estimators": 3}}',
    "bad-value.toml": '[train]\nn_estimators = "abc"\n',
    "bool-count.yaml": "train:\n  n_estimators: true\n",
    "list-data.yaml": "train:\n  data: [1, 2]\n",
    "not-a-table.json": "[1, 2]",
    "config.ini": "[train]\n",
}
TABLES = {
    "junk.csv": "customer_id,tenure_months,monthly_spend,support_tickets_90d,logins_30d,discount_pct,plan,region,"
    "payment_method,churned\nC1,ten,10,1,2,0,basic,north,card,0\n",
    "no-plan.csv": "customer_id,tenure_months,monthly_spend,support_tickets_90d,logins_30d,discount_pct,region,"
    "payment_method,churned\nC1,3,10,1,2,0,north,card,0\n",
    "empty.parquet": "",
    "header-only.csv": "customer_id,tenure_months,monthly_spend,support_tickets_90d,logins_30d,discount_pct,plan,"
    "region,payment_method,churned\n",
    "notes.txt": "hello",
    "yes-no.csv": "customer_id,tenure_months,monthly_spend,support_tickets_90d,logins_30d,discount_pct,plan,region,"
    "payment_method,churned\n"
    + "".join(f"C{i},3,10,1,2,0,basic,north,card,{'yes' if i % 2 else 'no'}\n" for i in range(9)),
}

# (arguments, extra environment, exit code, text the one stderr line must contain, needs churn's extra)
BAD = [
    (["nosuch", "train"], {}, 2, "unknown model 'nosuch'", False),
    (["churn", "nosuch"], {}, 2, "unknown command for 'churn': 'nosuch'", False),
    (["churn", "train", "--nosuch=1"], {}, 2, "unknown flag for 'churn train': '--nosuch'", False),
    (["churn", "train", "--n_estimator=5"], {}, 2, "did you mean '--n_estimators'?", False),
    (["churn", "train", "--seed=1", "--seed=2"], {}, 2, "flag --seed given more than once", False),
    (["churn", "train", "stray"], {}, 2, "unexpected argument 'stray'", False),
    (["churn"], {}, 2, "missing command for 'churn'", False),
    (["churn", "train", "--n_estimators"], {}, 2, "--n_estimators needs a value", False),
    (["churn", "train", "--aws_secret_access_key=hunter22"], {}, 2, "looks like a secret", False),
    (["churn", "train", "--db_password=hunter22"], {}, 2, "looks like a secret", False),
    (["manifest", "--all"], {}, 2, "'modelfleet manifest' takes no arguments", False),
    (["churn", "train", "--n_estimators=abc"], {}, 64, "--n_estimators must be int >= 1", False),
    (["churn", "train", "--n_estimators=2.5"], {}, 64, "--n_estimators must be int >= 1", False),
    (["churn", "train", "--n_estimators=0"], {}, 64, "greater than or equal to 1; got '0'", False),
    (["churn", "train", "--learning_rate=0"], {}, 64, "--learning_rate must be float > 0 and <= 1", False),
    (["churn", "train", "--learning_rate=1.5"], {}, 64, "less than or equal to 1", False),
    (["churn", "train", "--valid_fraction=1"], {}, 64, "--valid_fraction must be float > 0 and <= 0.9", False),
    (["churn", "train", "--as_of=2024-13-01"], {}, 64, "--as_of must be date (YYYY-MM-DD)", False),
    (["churn", "train", "--as_of=yesterday"], {}, 64, "--as_of must be date", False),
    (["churn", "train", "--boosting=rf"], {}, 64, "--boosting must be one of 'gbdt', 'dart'", False),
    (["churn", "train", "--dry_run=maybe"], {}, 64, "--dry_run must be true or false", False),
    (["churn", "sample", "--rows=0"], {}, 64, "--rows must be int >= 1", False),
    (["segment", "train", "--n_segments=1"], {}, 64, "--n_segments must be int >= 2 and <= 50", False),
    (["churn", "train", "--run_id=../../etc"], {}, 64, "--run_id must be a version id: 1-128 characters", False),
    (["churn", "score", "--version=a/b"], {}, 64, "--version must be 'latest', a version id", False),
    (["churn", "train", "--config=malformed.yaml"], {}, 78, "is not valid YAML", True),
    (["churn", "train", "--config=unknown-param.yaml"], {}, 78, "'train' has no parameter 'n_estimatorz'", True),
    (["churn", "train", "--config=unknown-command.json"], {}, 78, "names unknown command 'fit'", True),
    (["churn", "train", "--config=bad-value.toml"], {}, 78, "bad-value.toml: train.n_estimators must be int", True),
    (["churn", "train", "--config=not-a-table.json"], {}, 78, "must map command names to parameter tables", True),
    (["churn", "train", "--config=config.ini"], {}, 78, "must end in .yaml, .yml, .json, .toml", True),
    (["churn", "train", "--config=missing.yaml"], {}, 78, "config file not found: missing.yaml", True),
    (
        ["churn", "train"],
        {"MODELFLEET_CHURN_N_ESTIMATORS": "many"},
        78,
        "MODELFLEET_CHURN_N_ESTIMATORS must be int",
        True,
    ),
    (["churn", "train", "--config=bool-count.yaml"], {}, 78, "train.n_estimators must be int; got True", True),
    (["churn", "train", "--config=list-data.yaml"], {}, 78, "train.data must be Parquet or CSV path or URL", True),
    (["churn", "train", "--store="], {}, 64, "--store must be a value; got an empty string", False),
    (["churn", "sample", "--output="], {}, 64, "--output must be a value; got an empty string", False),
    (["churn", "sample", "--output=out.txt"], {}, 64, "--output: cannot tell the format of 'out.txt'", True),
    (["churn", "score", "--output=out.txt"], {}, 64, "--output: cannot tell the format of 'out.txt'", True),
    (["churn", "train", "--as_of=0"], {}, 64, "--as_of must be date (YYYY-MM-DD); got '0'", False),
    (["segment", "train", "--seed=-1"], {}, 64, "--seed must be int >= 0", False),
    (["churn", "train", "--n_estimators=99999999999"], {}, 64, "--n_estimators must be int >= 1 and <= 100000", False),
    (["churn", "train", "--store=foo://bar"], {}, 78, "cannot open 'foo://bar'", True),
    (["churn", "train", "--data=yes-no.csv"], {}, 65, "label column 'churned' holds 'no', 'yes', not 0/1", True),
    (["churn", "score"], {}, 66, "no trained version of 'churn'", True),
    (["churn", "train", "--data=nope.parquet"], {}, 66, "input not found: nope.parquet", True),
    (["churn", "train", "--data=junk.csv"], {}, 65, "column 'tenure_months' must be numeric", True),
    (["churn", "train", "--data=no-plan.csv"], {}, 65, "lacks required column(s) 'plan'", True),
    (["churn", "train", "--data=empty.parquet"], {}, 65, "cannot read empty.parquet as parquet", True),
    (["churn", "train", "--data=header-only.csv"], {}, 99, "header-only.csv has no rows; nothing to do", True),
    (["churn", "train", "--data=notes.txt"], {}, 65, "cannot tell the format of 'notes.txt'", True),
]


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A folder with a store of its own, holding the config files and tables the bad invocations name."""
    monkeypatch.setenv("MODELFLEET_STORE", str(tmp_path / "store"))
    for name, text in {**CONFIGS, **TABLES}.items():
        (tmp_path / name).write_text(text)
    return tmp_path


@pytest.mark.parametrize(("args", "env", "code", "expected", "needs_churn"), BAD, ids=lambda v: None)
def test_bad_invocation(modelfleet, workdir, args, env, code, expected, needs_churn):
    """Each mistake: its documented exit code, one stderr line naming it, no traceback, no stdout, no store."""
    if needs_churn and not HAS_CHURN:
        pytest.skip("needs the churn extra")
    done = modelfleet(args, workdir, env)
    assert code == done.returncode, done.stderr
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert expected in done.stderr
    assert "Traceback" not in done.stderr
    assert "hunter22" not in done.stderr, "a secret was echoed"
    assert not (workdir / "store").exists(), "a failed command wrote to the store"


@NEEDS_CHURN
@pytest.mark.parametrize("command", ["train", "score", "evaluate", "describe"])
@pytest.mark.parametrize("store", ["afile", "afile/inside"])
def test_a_store_that_is_a_file_is_a_configuration_error_everywhere(modelfleet, workdir, command, store):
    """A store path that is (or lies under) a file exits 78 in every command, before any work; it is never read
    as an empty store or as "no trained version"."""
    (workdir / "afile").write_text("x")
    done = modelfleet(["churn", command, f"--store={store}"], workdir)
    assert done.returncode == 78, done.stderr
    assert "is a file, not a folder" in done.stderr
    assert "training churn" not in done.stderr


@NEEDS_CHURN
def test_credentials_in_urls_never_reach_stdout_or_the_result_file(modelfleet, workdir):
    """A user:password in a URL is masked in the printed result and in the result file."""
    result = workdir / "result.json"
    done = modelfleet(
        ["churn", "sample", "--rows=3", "--output=memory://alice:s3cr3tpw@bucket/x.csv"],
        workdir,
        {"MODELFLEET_RESULT_PATH": str(result)},
    )
    assert done.returncode == 0, done.stderr
    assert "s3cr3tpw" not in done.stdout + done.stderr + result.read_text()
    assert json.loads(done.stdout)["output"] == "memory://***@bucket/x.csv"


@NEEDS_CHURN
def test_an_unwritable_result_file_is_a_one_line_io_error(modelfleet, workdir):
    """If the result file cannot be written, exit 74 with one line, not a traceback."""
    (workdir / "adir").mkdir()
    done = modelfleet(
        ["churn", "sample", "--rows=3", "--output=s.csv"], workdir, {"MODELFLEET_RESULT_PATH": str(workdir / "adir")}
    )
    assert done.returncode == 74
    assert len(done.stderr.splitlines()) == 1
    assert "cannot write the result file" in done.stderr


@NEEDS_CHURN
def test_short_aliases_from_the_help_work(modelfleet, workdir):
    """Fire's help shows -l for --learning_rate; the parser accepts it."""
    done = modelfleet(["churn", "train", "--dry_run", "-l=0.3", "--no-dry-run", "--dry-run"], workdir)
    assert done.returncode == 2  # dry_run given twice: --no-dry-run and --dry-run are the same flag
    done = modelfleet(["churn", "train", "--dry_run", "-l=0.3"], workdir)
    assert json.loads(done.stdout)["params"]["learning_rate"] == 0.3


def test_the_table_covers_every_documented_user_error_code():
    """The table exercises each exit code a user's mistake can cause."""
    assert {2, 64, 65, 66, 78} <= {code for _, _, code, _, _ in BAD}
    assert len(BAD) >= 25


def test_debug_adds_the_traceback(modelfleet, workdir):
    """--debug shows the traceback for a user error, for a bug report."""
    done = modelfleet(["churn", "train", "--n_estimators=abc", "--debug"], workdir)
    assert done.returncode == 64
    assert "Traceback" in done.stderr


@NEEDS_CHURN
def test_digit_strings_reach_the_code_as_strings(modelfleet, workdir):
    """--run_id=20241010 becomes the version '20241010', a string, not the number Fire would make of it."""
    done = modelfleet(["churn", "train", "--run_id=20241010", "--n_estimators=5"], workdir)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["version"] == "20241010"
    assert (workdir / "store" / "churn" / "versions" / "20241010" / "manifest.json").exists()


@NEEDS_CHURN
@pytest.mark.parametrize(
    ("trained_first", "args"),
    [
        (False, ["churn", "train", "--n_estimators=5", "--run_id=r1"]),
        (True, ["churn", "train", "--n_estimators=5", "--run_id=r1"]),  # the retry: already committed
        (True, ["churn", "score", "--version=r1"]),
        (True, ["churn", "evaluate"]),
        (True, ["churn", "describe"]),
        (False, ["churn", "sample", "--rows=10", "--output=s.csv"]),
        (True, ["churn", "score", "--dry_run"]),
        (False, ["manifest"]),
    ],
)
def test_stdout_is_exactly_one_json_object(modelfleet, workdir, trained_first, args):
    """A successful command prints one line: a JSON object, and nothing else, even with debug logging."""
    if trained_first:
        modelfleet(["churn", "train", "--n_estimators=5", "--run_id=r1"], workdir)
    done = modelfleet(args, workdir, {"MODELFLEET_LOG_LEVEL": "DEBUG"})
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 1
    assert isinstance(json.loads(done.stdout), dict)


@NEEDS_CHURN
def test_result_is_written_to_the_xcom_file_when_its_folder_exists(modelfleet, workdir):
    """With the XCom folder present, return.json holds the same object as stdout; without it, nothing."""
    xcom = workdir / "airflow" / "xcom"
    env = {"MODELFLEET_XCOM_DIR": str(xcom)}
    modelfleet(["churn", "sample", "--rows=3", "--output=s.csv"], workdir, env)
    assert not xcom.exists()
    xcom.mkdir(parents=True)
    done = modelfleet(["churn", "sample", "--rows=3", "--output=s.csv"], workdir, env)
    assert json.loads(done.stdout) == json.loads((xcom / "return.json").read_text())
    assert [p.name for p in xcom.iterdir()] == ["return.json"], "no temporary file may be left behind"


def test_a_failure_still_writes_the_result_file(modelfleet, workdir):
    """Airflow's sidecar waits for the file: on failure it names the error class, message and exit code."""
    target = workdir / "out" / "result.json"
    done = modelfleet(["nosuch", "train"], workdir, {"MODELFLEET_RESULT_PATH": str(target)})
    assert done.returncode == 2
    error = json.loads(target.read_text())
    assert {k: error[k] for k in ("error", "exit_code")} == {"error": "UsageError", "exit_code": 2}
    assert "unknown model 'nosuch'" in error["message"]


@pytest.mark.parametrize(
    "args", [["churn", "describe"], ["churn", "score", "--data=nosuch.parquet"], ["nosuch"], ["nosuch", "--debug"]]
)
def test_logs_can_be_json_lines(modelfleet, workdir, args):
    """MODELFLEET_LOG_FORMAT=json makes every stderr line a JSON object, the error line too (with its exit code)."""
    done = modelfleet(args, workdir, {"MODELFLEET_LOG_FORMAT": "json", "MODELFLEET_LOG_LEVEL": "DEBUG"})
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert all("message" in line for line in lines)
    if done.returncode:
        assert lines[-1]["level"] == "ERROR"
        assert lines[-1]["exit_code"] == done.returncode


@NEEDS_CHURN
def test_values_come_from_flag_then_env_then_config_then_default(modelfleet, workdir):
    """Each source wins over the ones after it, and describe says which one each value came from."""
    (workdir / "params.yaml").write_text("train:\n  n_estimators: 11\n  num_leaves: 7\n  learning_rate: 0.2\n")
    env = {"MODELFLEET_CHURN_N_ESTIMATORS": "22", "MODELFLEET_CHURN_NUM_LEAVES": "9"}
    config = "--config=params.yaml"
    plan = json.loads(modelfleet(["churn", "train", "--dry_run", config, "--n_estimators=33"], workdir, env).stdout)
    assert tuple(plan["params"][k] for k in ("n_estimators", "num_leaves", "learning_rate", "min_child_samples")) == (
        33,
        9,
        0.2,
        20,
    )
    described = json.loads(modelfleet(["churn", "describe", config], workdir, env).stdout)
    train = described["commands"]["train"]["parameters"]
    sources = {k: (train[k]["value"], train[k]["source"]) for k in ("n_estimators", "num_leaves", "learning_rate")}
    assert sources == {"n_estimators": (22, "env"), "num_leaves": (9, "env"), "learning_rate": (0.2, "config")}
    assert (
        described["commands"]["score"]["parameters"]["version"]["value"],
        described["commands"]["score"]["parameters"]["version"]["source"],
    ) == ("latest", "default")


@NEEDS_CHURN
@pytest.mark.parametrize("fault", ["model-write:INT", "manifest-write:INT", "model-written:INT"])
def test_sigint_exits_130_with_one_line_and_the_result_file(modelfleet, workdir, fault):
    """Ctrl-C mid-training: exit 130, one error line, the result file says so, nothing committed."""
    result = workdir / "result.json"
    done = modelfleet(
        ["churn", "train", "--n_estimators=5"],
        workdir,
        {"MODELFLEET_FAULT": fault, "MODELFLEET_RESULT_PATH": str(result)},
    )  # in this process: the fault signals it, and main's own handler turns the signal into exit 130
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("modelfleet: error: interrupted by SIGINT")
    assert "Traceback" not in done.stderr
    assert json.loads(result.read_text())["exit_code"] == 130
    assert not list((workdir / "store").rglob("manifest.json"))


@NEEDS_CHURN
@pytest.mark.parametrize("signals", ["TERM TERM TERM", "INT TERM", "TERM INT", "INT INT TERM"])
def test_a_second_signal_during_cleanup_changes_nothing(workdir, signals):
    """A signal, then more while stopping (a pod deleted, then its grace period nagging; Ctrl-C then a kill): the
    first handled decides the exit (143 or 130; Python runs signals pending together in number order), one error
    line that says so, the result file, no traceback."""
    import signal
    import time

    result = workdir / "result.json"
    environ = {**os.environ, "MODELFLEET_STORE": str(workdir / "store"), "MODELFLEET_RESULT_PATH": str(result)}
    command = [sys.executable, "-m", "dispatch", "churn", "train", "--n_estimators=100000", "--learning_rate=0.001"]
    with subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=environ) as proc:
        for line in proc.stderr:
            if "training churn" in line:
                break
        time.sleep(0.5)  # well into boosting
        for name in signals.split():
            proc.send_signal(getattr(signal, f"SIG{name}"))
        try:  # a process that does not stop fails the test, never hangs it
            err = proc.communicate(timeout=120)[1]
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail(f"still running 120 s after SIG{signals}: {proc.communicate()[1][-2000:]}")
        code = proc.returncode
    said = {143: "terminated by SIGTERM", 130: "interrupted by SIGINT"}
    assert code in said, err
    assert len(set(signals.split())) > 1 or code == {"TERM": 143, "INT": 130}[signals.split()[0]]
    assert "Traceback" not in err
    assert "race condition" not in err
    assert err.strip().splitlines()[-1].startswith(f"modelfleet: error: {said[code]}")
    assert json.loads(result.read_text())["exit_code"] == code


def test_a_closed_stdout_exits_74_with_one_line(workdir):
    """The reader of stdout went away: exit 74 and one error line; the result file says so too."""
    result = workdir / "result.json"
    environ = {**os.environ, "MODELFLEET_STORE": str(workdir / "store"), "MODELFLEET_RESULT_PATH": str(result)}
    read, write = os.pipe()
    os.close(read)  # nobody will ever read what the command prints
    done = subprocess.run(
        [sys.executable, "-m", "dispatch", "manifest"], stdout=write, stderr=subprocess.PIPE, text=True, env=environ
    )
    os.close(write)
    assert done.returncode == 74, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [done.stderr.strip().splitlines()[-1]]
    assert "cannot print the result on stdout" in done.stderr
    assert json.loads(result.read_text())["exit_code"] == 74


def test_python_warnings_are_json_lines_when_logs_are_json(monkeypatch, capsys):
    """With MODELFLEET_LOG_FORMAT=json every stderr line is JSON, warnings from libraries included."""
    import logging
    import warnings

    from dispatch import cli

    monkeypatch.setenv("MODELFLEET_LOG_FORMAT", "json")
    cli._configure_logging()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.warn("a library complains", UserWarning, stacklevel=1)
        logging.getLogger("shared").info("a log line")
    finally:
        logging.captureWarnings(False)
        logging.getLogger().handlers[:] = []
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2
    assert "a library complains" in json.loads(lines[0])["message"]
    assert json.loads(lines[1])["message"] == "a log line"


@NEEDS_CHURN
@pytest.mark.parametrize("output", ["scores.parquet", "scores.csv", "sharded/"])
def test_a_retry_removes_what_a_killed_score_left_and_keeps_a_live_writers(modelfleet, workdir, output):
    """SIGKILL mid-write leaves a hidden partial; the retry removes it (not a live writer's) and publishes."""
    import fcntl
    import signal

    assert modelfleet(["churn", "train", "--n_estimators=5"], workdir).returncode == 0
    import pandas as pd

    assert modelfleet(["churn", "sample", "--rows=3000", "--output=in.parquet"], workdir).returncode == 0
    pd.read_parquet(workdir / "in.parquet").drop(columns="churned").to_parquet(workdir / "in.parquet")
    args = ["churn", "score", "--data=in.parquet", "--batch_rows=500"]
    if output.endswith("/"):
        args += [f"--output={output}", "--shard=1/2"]
        folder, name = workdir / "sharded", "part-00001-of-00002.parquet"
    else:
        args += [f"--output={output}"]
        folder, name = workdir, output
    killed = modelfleet(args, workdir, {"MODELFLEET_FAULT": "output-write"}, process=True)  # SIGKILLs itself
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    (left,) = folder.glob(f".{name}.*.tmp")
    assert not (folder / name).exists()
    old = left.stat().st_mtime - 60
    os.utime(left, (old, old))  # the retry comes after Airflow's retry delay
    live = folder / f".{name}.{'0' * 32}.tmp"  # a duplicate attempt still writing
    live.write_bytes(b"")
    os.utime(live, (old, old))
    with open(live, "rb") as holder:
        fcntl.flock(holder.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        retried = modelfleet(args, workdir)
    assert retried.returncode == 0, retried.stderr
    assert [live] == list(folder.glob(f".{name}.*.tmp"))
    assert "did not finish" in retried.stderr
    assert json.loads(retried.stdout)["rows"] > 0
    assert (folder / name).stat().st_size > 0


@pytest.mark.parametrize("how", ["help-to-a-pipe-nobody-reads", "stdout-closed-at-start"])
def test_stdout_that_cannot_be_written_exits_74(workdir, how):
    """`--help | head -c0` and `>&-`: exit 74 with one error line, not 75 (a broken pipe is no network) or 70."""
    environ = {**os.environ, "MODELFLEET_STORE": str(workdir / "store")}
    if how == "stdout-closed-at-start":
        done = subprocess.run(
            [sys.executable, "-m", "dispatch", "churn", "describe"],
            stdout=subprocess.DEVNULL,
            env=environ,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=lambda: os.close(1),
        )
    else:
        read, write = os.pipe()
        os.close(read)
        done = subprocess.run(
            [sys.executable, "-m", "dispatch", "--help"], stdout=write, stderr=subprocess.PIPE, text=True, env=environ
        )
        os.close(write)
    assert done.returncode == 74, done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


@NEEDS_CHURN
@pytest.mark.parametrize("command", ["train", "score"])
def test_a_stop_that_something_swallowed_is_raised_at_the_next_safe_point(modelfleet, workdir, monkeypatch, command):
    """A signal's stop raised inside code that swallows exceptions (a __del__, a ctypes callback: Python prints
    "Exception ignored" and goes on) is raised again at the next boosting round or scoring batch: the command
    still exits 143 and commits or publishes nothing."""
    from models.churn import Churn
    from shared.errors import Terminated
    from shared.process import stopping

    store = workdir / "store"
    hook = "_fit" if command == "train" else "_predict"
    args = ["churn", command, f"--store={store}"]
    if command == "train":
        args.append("--n_estimators=50")
    else:
        Churn(store=str(store)).train(n_estimators=5)
        Churn()._sample_frame(300, 1).drop(columns="churned").to_parquet(workdir / "rows.parquet")
        args += ["--data=rows.parquet", "--output=out.parquet", "--batch_rows=50"]
    original = getattr(Churn, hook)

    def swallowing(self, *positional, **named):
        stop = Terminated("terminated by SIGTERM before the command finished")
        stopping.request(stop)  # what the signal handler does, before its raise lands in a __del__ and is lost
        return original(self, *positional, **named)

    monkeypatch.setattr(Churn, hook, swallowing)
    rounds, progress = [], Churn._progress

    def counted(self, *positional):
        callback = progress(self, *positional)
        return lambda env: (rounds.append(env.iteration), callback(env))

    monkeypatch.setattr(Churn, "_progress", counted)
    done = modelfleet(args, cwd=workdir)
    assert done.returncode == 143, done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("modelfleet: error: terminated by SIGTERM")
    assert len(list(store.rglob("manifest.json"))) == (0 if command == "train" else 1)
    assert not (workdir / "out.parquet").exists()
    assert rounds == ([0] if command == "train" else [])  # stopped at the first round, not after all 50
    assert not stopping._requested  # an in-process caller gets a clean slate
