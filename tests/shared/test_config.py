"""Config files are bounded before anything reads their values: size, count of values and depth."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared import config
from shared.errors import ConfigError


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
