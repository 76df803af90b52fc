"""A path that exists is that path, whatever characters it holds: only one that does not exist may be a glob.

Generated file names with glob metacharacters (``? * [ ] { }``), spaces and other scripts, beside a decoy file
that the name, read as a pattern, would match: `score` and `train` read exactly the named file, an output of
such a name is written there, and an output that is the input, however spelt, is refused (64).
"""

import json
import os

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.churn import Churn

pytestmark = pytest.mark.slow

SETTINGS = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# A file name holding a glob token, and the name of a decoy file the token matches (the same name, with a text the
# token matches instead), among letters, digits, spaces, braces and other scripts.
TOKENS = [("?", "x"), ("*", "zz"), ("[ab]", "a"), ("[!c]", "d"), ("??", "xy"), ("[1]", "1")]
TEXT = st.text(st.sampled_from("ab1 é中-{},"), max_size=4)
names = st.tuples(TEXT, st.sampled_from(TOKENS), TEXT, st.sampled_from([*TOKENS, ("", "")])).map(
    lambda p: (f"{p[0]}{p[1][0]}{p[2]}{p[3][0]}", f"{p[0]}{p[1][1]}{p[2]}{p[3][1]}")
)


@pytest.fixture(scope="module")
def rows():
    """An unlabelled table to score and a labelled one to train on."""
    frame = Churn()._sample_frame(240, 7)
    return frame.drop(columns=["churned"]), frame


def write(frame: pd.DataFrame, path, fmt: str) -> None:
    if fmt == "csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)


@SETTINGS
@given(name=names, fmt=st.sampled_from(["csv", "parquet"]), out=names)
def test_score_reads_and_writes_the_named_file(modelfleet, store, tmp_path_factory, rows, name, fmt, out):
    unlabelled, _ = rows
    (stem, decoy), (out, _) = name, out
    work = tmp_path_factory.mktemp("score")
    named = f"{stem}.{fmt}"
    write(unlabelled, work / named, fmt)
    write(unlabelled.iloc[:17], work / f"{decoy}.{fmt}", fmt)  # what the name matches as a pattern
    write(unlabelled, work / f"plain.{fmt}", fmt)
    output = f"{out}.parquet"
    args = ["churn", "score", f"--store={store}"]
    done = modelfleet([*args, f"--data={named}", f"--output={output}"], cwd=work)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rows"] == len(unlabelled)
    assert modelfleet([*args, f"--data=plain.{fmt}", "--output=plain-out.parquet"], cwd=work).returncode == 0
    assert pd.read_parquet(work / output).equals(pd.read_parquet(work / "plain-out.parquet"))
    for spelt in (named, f"./{named}", str(work / named)):  # the output is the input, however spelt
        refused = modelfleet([*args, f"--data={named}", f"--output={spelt}"], cwd=work)
        assert refused.returncode == 64, refused.stderr
        assert "lies inside, the input" in refused.stderr


@SETTINGS
@given(name=names, fmt=st.sampled_from(["csv", "parquet"]))
def test_train_reads_the_named_file(modelfleet, tmp_path_factory, rows, name, fmt):
    _, labelled = rows
    stem, decoy = name
    work = tmp_path_factory.mktemp("train")
    write(labelled, work / f"{stem}.{fmt}", fmt)
    write(labelled.iloc[:40], work / f"{decoy}.{fmt}", fmt)
    write(labelled, work / f"plain.{fmt}", fmt)
    args = ["churn", "train", "--n_estimators=3", f"--store={work / 'store'}"]
    done = modelfleet([*args, f"--data={stem}.{fmt}", "--dry_run"], cwd=work)
    assert done.returncode == 0, done.stderr
    done = modelfleet([*args, f"--data={stem}.{fmt}"], cwd=work)
    assert done.returncode == 0, done.stderr
    plain = modelfleet([*args, f"--data=plain.{fmt}"], cwd=work)
    assert json.loads(done.stdout)["metrics"] == json.loads(plain.stdout)["metrics"]
    assert json.loads(done.stdout)["rows"] == json.loads(plain.stdout)["rows"]


def test_a_name_that_does_not_exist_is_still_a_glob(modelfleet, store, tmp_path, rows):
    """The other half of the rule: `part-?.parquet` names no file, so it is the pattern that lists both parts."""
    unlabelled, _ = rows
    for k, part in enumerate((unlabelled.iloc[:100], unlabelled.iloc[100:])):
        part.to_parquet(tmp_path / f"part-{k}.parquet", index=False)
    done = modelfleet(
        ["churn", "score", f"--store={store}", "--data=part-?.parquet", "--output=out/p.parquet"], cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rows"] == len(unlabelled)


def test_a_folder_that_exists_is_that_folder(modelfleet, store, tmp_path, rows):
    """A folder named like a pattern (`day[1]`) is read as that folder, not as the pattern (which lists `day1`)."""
    unlabelled, _ = rows
    (tmp_path / "day[1]").mkdir()
    (tmp_path / "day1").mkdir()
    unlabelled.to_parquet(tmp_path / "day[1]" / "a.parquet", index=False)
    unlabelled.iloc[:10].to_parquet(tmp_path / "day1" / "a.parquet", index=False)
    done = modelfleet(["churn", "score", f"--store={store}", "--data=day[1]", "--output=o.parquet"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rows"] == len(unlabelled)


def test_an_object_store_key_that_exists_is_that_key(modelfleet, store, s3_store, rows):
    """The same rule on S3: an object named `a?b[1].parquet` is read as that object."""
    import s3fs

    unlabelled, _ = rows
    bucket = s3_store.split("/")[2]
    fs = s3fs.S3FileSystem(skip_instance_cache=True, **json.loads(os.environ["MODELFLEET_STORAGE_OPTIONS"]))
    with fs.open(f"{bucket}/in/a?b[1].parquet", "wb") as handle:
        unlabelled.to_parquet(handle, index=False)
    with fs.open(f"{bucket}/in/axb1.parquet", "wb") as handle:
        unlabelled.iloc[:10].to_parquet(handle, index=False)
    data = f"s3://{bucket}/in/a?b[1].parquet"
    done = modelfleet(["churn", "score", f"--store={store}", f"--data={data}", f"--output=s3://{bucket}/o[1].parquet"])
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rows"] == len(unlabelled)
    assert fs.exists(f"{bucket}/o[1].parquet")
    refused = modelfleet(["churn", "score", f"--store={store}", f"--data={data}", f"--output={data}"])
    assert refused.returncode == 64, refused.stderr
