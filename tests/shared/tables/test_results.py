"""Command results print as one line of JSON."""

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.errors import shown
from shared.tables.results import redact, to_json


def test_numpy_values_paths_and_non_finite_numbers_become_json():
    """numpy scalars become numbers, paths strings, NaN null; the output is one line."""
    text = to_json({"auc": np.float64(0.75), "n": np.int64(3), "path": Path("/a"), "bad": float("nan")})
    assert "\n" not in text
    assert json.loads(text) == {"auc": 0.75, "n": 3, "path": "/a", "bad": None}


def test_non_json_values_are_refused():
    """A command may not return something JSON cannot carry."""
    with pytest.raises(TypeError, match="must be JSON data"):
        to_json({"x": object()})


userinfo = st.text(
    alphabet=st.characters(blacklist_characters="/@", blacklist_categories=["Cs", "Cc", "Z"]), min_size=1
)


@given(
    scheme=st.sampled_from(["s3", "gs", "https", "postgresql+psycopg"]),
    user=userinfo,
    around=st.text(max_size=40).filter(lambda s: "://" not in s),
)
def test_credentials_in_urls_are_hidden_wherever_they_appear(scheme, user, around):
    """user:password@ in any URL in a message becomes ***@; the rest of the text is kept."""
    text = f"{around}{scheme}://{user}@host/path{around}"
    assert redact(text) == f"{around}{scheme}://***@host/path{around}"


@pytest.mark.parametrize("size", [10_000, 1_000_000])
def test_redaction_of_a_long_token_keeps_it_whole(size):
    """A long token with no URL in it is left alone (and redaction is linear in its size: this runs at once)."""
    token = "a" * size + ":" + "b" * size
    assert redact(token) == token


@pytest.mark.parametrize("size", [100, 100_000, 10_000_000])
def test_echoed_values_are_cut(size):
    """A value an error message echoes is cut to about 80 characters, whatever its size."""
    text = shown("x" * size)
    assert len(text) <= 80 + len(f"... ({size} characters)")
