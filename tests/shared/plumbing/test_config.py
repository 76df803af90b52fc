"""Config files are bounded before anything reads their values: size, count of values and depth."""

import importlib.util
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.errors import ConfigError
from shared.plumbing import config


def alias_bomb(width: int, levels: int) -> str:
    """A YAML file of a few hundred bytes whose last alias stands for width ** levels values."""
    lines = [f"l0: &l0 [{', '.join(['x'] * width)}]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, levels)]
    return "\n".join([*lines, f"train: {{n_estimators: *l{levels - 1}}}"]) + "\n"


@settings(max_examples=30, deadline=None)
@given(width=st.integers(3, 12), extra=st.integers(0, 3))
def test_yaml_alias_bombs_are_refused_without_expanding_them(tmp_path_factory, width, extra):
    """Counting every reference, a file that stands for more than MAX_VALUES values exits 78."""
    levels = math.ceil(math.log(config.MAX_VALUES * 2) / math.log(width)) + extra
    path = tmp_path_factory.mktemp("cfg") / "bomb.yaml"
    path.write_text(alias_bomb(width, levels))
    with pytest.raises(ConfigError, match="more than 10000 values"):
        config.load(path)


@pytest.mark.parametrize(
    ("text", "match"), [("train: " + "[" * 40 + "]" * 40 + "\n", "nested deeper"), ("x" * (2 << 20), "larger than")]
)
def test_deep_or_huge_files_are_refused(tmp_path, text, match):
    """A deeply nested value, or a file larger than a parameter file can be, exits 78."""
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=match):
        config.load(path)


NESTED = {
    ".yaml": lambda depth: f"train: {{run_id: {'[' * depth}{']' * depth}}}\n",
    ".json": lambda depth: f'{{"train": {{"run_id": {"[" * depth}{"]" * depth}}}}}',
    ".toml": lambda depth: f"[train]\nrun_id = {'[' * depth}{']' * depth}\n",
}


@settings(max_examples=30, deadline=None)
@given(suffix=st.sampled_from(sorted(NESTED)), depth=st.integers(17, 5000))
def test_nesting_of_any_depth_is_a_configuration_error(tmp_path_factory, suffix, depth):
    """However deep a file nests (past the parsers' own recursion too), it exits 78, never 70."""
    path = tmp_path_factory.mktemp("cfg") / f"deep{suffix}"
    path.write_text(NESTED[suffix](depth))
    with pytest.raises(ConfigError, match="nest"):
        config.load(path)


def test_an_ordinary_config_still_loads(tmp_path):
    """Bounds leave real files alone."""
    path = tmp_path / "c.yaml"
    path.write_text("defaults: &d {n_estimators: 300}\ntrain: *d\nscore: {version: latest}\n")
    assert config.load(path) == {
        "defaults": {"n_estimators": 300},
        "train": {"n_estimators": 300},
        "score": {"version": "latest"},
    }


@pytest.mark.parametrize(
    ("scalar", "value"),
    [
        ("off", "off"),
        ("on", "on"),
        ("no", "no"),
        ("yes", "yes"),
        ("y", "y"),
        ("n", "n"),
        ("Off", "Off"),
        ("NO", "NO"),
        ("true", True),
        ("True", True),
        ("TRUE", True),
        ("false", False),
        ("False", False),
        ("'true'", "true"),
        ("1", 1),
        ("-2", -2),
        ("0o17", 15),
        ("0x1F", 31),
        ("017", 17),  # decimal, not YAML 1.1's octal
        ("1e3", 1000.0),  # a number, not YAML 1.1's text
        ("1.5", 1.5),
        ("1:30", "1:30"),  # text, not YAML 1.1's sexagesimal 90
        ("1_000", "1_000"),
        ("~", None),
        ("null", None),
        ("latest", "latest"),
    ],
)
def test_yaml_scalars_follow_the_core_schema(tmp_path, scalar, value):
    """Only true/false are booleans (YAML 1.2 core): `on_drift: off` stays the text 'off'."""
    path = tmp_path / "c.yaml"
    path.write_text(f"score: {{on_drift: {scalar}}}\n")
    loaded = config.load(path)["score"]["on_drift"]
    assert loaded == value
    assert type(loaded) is type(value)


WORDS = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"), min_size=1, max_size=8)


@settings(max_examples=200, deadline=None)
@given(word=WORDS)
def test_a_bare_word_is_a_boolean_only_when_it_is_true_or_false(tmp_path_factory, word):
    path = tmp_path_factory.mktemp("cfg") / "c.yaml"
    path.write_text(f"train: {{x: {word}}}\n")
    loaded = config.load(path)["train"]["x"]
    if word in ("true", "True", "TRUE", "false", "False", "FALSE"):
        assert loaded is (word.lower() == "true")
    elif word in ("null", "Null", "NULL"):
        assert loaded is None
    else:
        assert loaded == word


@settings(max_examples=100, deadline=None)
@given(number=st.one_of(st.integers(-(10**12), 10**12), st.floats(allow_nan=False, allow_infinity=False)))
def test_numbers_read_back(tmp_path_factory, number):
    path = tmp_path_factory.mktemp("cfg") / "c.yaml"
    path.write_text(f"train: {{x: {number!r}}}\n")
    assert config.load(path)["train"]["x"] == number


def test_the_loader_is_still_safe(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("train: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        config.load(path)


@pytest.mark.parametrize(
    ("given", "choices", "hint"),
    [
        ("n_estimator", ["n_estimators", "seed"], " (did you mean 'n_estimators'?)"),
        ("trian", ["train", "score"], " (did you mean 'train'?)"),
        ("zzzzzz", ["train", "score"], ""),
    ],
)
def test_did_you_mean(given, choices, hint):
    assert config.did_you_mean(given, choices) == hint


NEEDS_LIGHTGBM = pytest.mark.skipif(importlib.util.find_spec("lightgbm") is None, reason="needs the churn extra")


@NEEDS_LIGHTGBM
@pytest.mark.parametrize(
    ("text", "code", "expected"),
    [
        ("score: {on_drift: off}\n", 0, None),
        ("train: {n_estimator: 5}\n", 78, "'train' has no parameter 'n_estimator' (did you mean 'n_estimators'?)"),
        ("trian: {seed: 1}\n", 78, "names unknown command 'trian' (did you mean 'train'?)"),
    ],
)
def test_config_through_the_command_line(modelfleet, tmp_path, text, code, expected):
    """A string flag given `off` in a config file gets the text 'off'; a misspelt name gets the closest one."""
    (tmp_path / "c.yaml").write_text(text)
    done = modelfleet(["churn", "describe", "--config", "c.yaml", f"--store={tmp_path / 's'}"], tmp_path)
    assert done.returncode == code, done.stderr
    if expected:
        assert expected in done.stderr
    else:
        on_drift = json.loads(done.stdout)["commands"]["score"]["parameters"]["on_drift"]
        assert (on_drift["value"], on_drift["source"]) == ("off", "config")
