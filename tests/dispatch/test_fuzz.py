"""A fuzz target over command lines and input tables: whatever comes in, a documented exit code and no traceback.

Command lines are drawn from `modelfleet manifest` (real models, commands and flags, with values of every
shape: valid, out of bounds, of another type, empty, huge, non-finite) mixed with junk tokens; input tables are
generated frames with random column subsets, types and values written as Parquet or CSV. Exit 70 (a bug) and a
traceback both fail. The number of examples is bounded, so CI runs it every time.
"""

import importlib.util
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch import cli
from dispatch.manifest import build

pytestmark = pytest.mark.skipif(importlib.util.find_spec("lightgbm") is None, reason="needs the churn extra")

DOCUMENTED = {0, 2, 3, 64, 65, 66, 74, 75, 77, 78, 99, 130, 143}
MANIFEST = build()
MODELS = sorted(name for name, model in MANIFEST["models"].items() if model.get("available"))

values = st.one_of(
    st.integers(-(10**12), 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "nan", "inf", "-inf", "true", "false", "none", "latest", "0/0", "1/0", "3/2", "[1,2]", "{}"]),
    st.sampled_from(["2024-10-10", "2024-13-01", "20241010", "x.parquet", "x.csv", "s3://", "../..", "/", "a" * 300]),
    st.text(max_size=20),
)


@st.composite
def command_lines(draw):
    """A model, a command and a few flags from the manifest, some with junk values, some junk themselves."""
    model = draw(st.sampled_from(MODELS))
    commands = MANIFEST["models"][model]["commands"]
    command = draw(st.sampled_from(sorted(commands)))
    names = sorted(commands[command]["parameters"])
    flags = draw(st.lists(st.sampled_from(names), max_size=4, unique=True))
    args = [model, command]
    for name in flags:
        if name in ("data", "output", "holdout_output", "store", "config"):
            continue  # paths are the table strategy's job; here they would only read or write the work folder
        args.append(f"--{name}={draw(values)}")
    args += draw(st.lists(st.sampled_from(["--nosuch=1", "-x", "stray", "--", "--n_estimators"]), max_size=1))
    return args


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(args=command_lines())
def test_any_command_line_exits_with_a_documented_code(tmp_path, monkeypatch, capsys, args):
    """Fire never sees a command line we have not checked: any mix of flags and values is a documented exit."""
    monkeypatch.setenv("MODELFLEET_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("MODELFLEET_RESULT_PATH", str(tmp_path / "result.json"))
    if args[1] in ("train", "score", "sample"):
        args = [*args, "--dry_run"]  # checks everything, does no work: the fuzz stays fast
    code = cli.main(args)
    _, err = capsys.readouterr()
    assert code in DOCUMENTED, (args, err[-500:])
    assert "Traceback" not in err, (args, err[-500:])
    if code:
        assert json.loads((tmp_path / "result.json").read_text())["exit_code"] == code


COLUMNS = ["customer_id", "tenure_months", "monthly_spend", "support_tickets_90d", "logins_30d", "discount_pct"]
COLUMNS += ["plan", "region", "payment_method", "churned", "unrelated"]


@st.composite
def tables(draw):
    """A frame with most of churn's columns, in any order, each of a random type."""
    rows = draw(st.integers(0, 120))
    chosen = [c for c in COLUMNS if draw(st.integers(0, 9)) > 0]  # most columns there: the checks past them run
    chosen = draw(st.permutations(chosen)) if chosen else ["unrelated"]
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    frame = {}
    for name in chosen:
        kind = draw(st.sampled_from(["int", "float", "text", "bool", "date", "numbers-as-text", "nan"]))
        frame[name] = {
            "int": lambda: rng.integers(-5, 5, rows),
            "float": lambda: rng.normal(size=rows) * 1e3,
            "text": lambda: rng.choice(["basic", "north", "card", "x", "", "NA"], rows),
            "bool": lambda: rng.random(rows) < 0.5,
            "date": lambda: pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 100, rows), "D"),
            "numbers-as-text": lambda: rng.integers(0, 3, rows).astype(str),
            "nan": lambda: np.full(rows, np.nan),
        }[kind]()
    return pd.DataFrame(frame)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frame=tables(), fmt=st.sampled_from(["parquet", "csv"]), command=st.sampled_from(["train", "score", "evaluate"]))
def test_any_table_exits_with_a_documented_code(trained_store, tmp_path_factory, capsys, frame, fmt, command):
    """A generated table of any shape: train, score and evaluate exit with a documented code, never 70."""
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / f"in.{fmt}"
    getattr(frame, f"to_{fmt}")(path, index=False)
    args = ["churn", command, f"--data={path}", f"--store={trained_store}"]
    args += (
        [f"--output={folder / 'out.parquet'}"] if command == "score" else ["--n_estimators=3"] * (command == "train")
    )
    code = cli.main(args)
    _, err = capsys.readouterr()
    assert code in DOCUMENTED, (frame.dtypes.to_dict(), err[-500:])
    assert "Traceback" not in err, err[-500:]


@pytest.fixture(scope="module")
def trained_store(tmp_path_factory):
    """A store with one small churn version, for the table fuzz."""
    from models.churn import Churn

    folder = tmp_path_factory.mktemp("store")
    Churn(store=str(folder)).train(n_estimators=5)
    return str(folder)
