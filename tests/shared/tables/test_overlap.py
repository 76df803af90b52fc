"""An output is never an input: generated layouts of files, folders, globs, links and spellings of paths."""

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.errors import BadArgument
from shared.tables import overlap

names = st.text(alphabet="abcxyz019_-", min_size=1, max_size=6).map(lambda s: f"n{s}")


def spell(path: str, how: str, root: str) -> str:
    """The same path written another way."""
    relative = os.path.relpath(path, root)
    return {
        "absolute": path,
        "relative": relative,
        "dot": os.path.join(".", relative),
        "detour": os.path.join(root, "elsewhere", "..", relative),
        "doubled-slash": path.replace(os.sep, os.sep + os.sep, 1) if path.count(os.sep) > 1 else path,
    }[how]


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kind=st.sampled_from(["file", "folder", "nested-folder", "glob", "link-to-folder", "link-to-file"]),
    relation=st.sampled_from(["same", "inside", "deep-inside", "sibling", "prefix-sibling", "parent"]),
    how=st.sampled_from(["absolute", "relative", "dot", "detour", "doubled-slash"]),
    name=names,
)
def test_an_output_is_refused_exactly_when_it_is_or_lies_inside_the_input(
    tmp_path, monkeypatch, kind, relation, how, name
):
    """Refused iff the output resolves to the input or inside it (through links and any spelling)."""
    root = str(tmp_path / f"case-{kind}-{relation}-{how}-{name}")
    os.makedirs(os.path.join(root, "in", "sub"), exist_ok=True)
    os.makedirs(os.path.join(root, "elsewhere"), exist_ok=True)
    for folder in ("in", os.path.join("in", "sub")):
        open(os.path.join(root, folder, "a.parquet"), "wb").close()
    monkeypatch.chdir(root)
    real_input = os.path.join(root, "in")
    data = {
        "file": os.path.join(root, "in", "a.parquet"),
        "folder": real_input,
        "nested-folder": real_input,
        "glob": os.path.join(root, "in", "*.parquet"),
        "link-to-folder": os.path.join(root, "link"),
        "link-to-file": os.path.join(root, "link.parquet"),
    }[kind]
    if kind == "link-to-folder" and not os.path.lexists(data):
        os.symlink(real_input, data)
    if kind == "link-to-file" and not os.path.lexists(data):
        os.symlink(os.path.join(real_input, "a.parquet"), data)
    base = real_input if kind != "file" and kind != "link-to-file" else os.path.join(real_input, "a.parquet")
    is_file = kind in ("file", "link-to-file")
    target, refused = {
        "same": (base if is_file else os.path.join(base, "a.parquet"), True),
        "inside": (os.path.join(real_input, f"{name}.parquet"), not is_file),
        "deep-inside": (
            os.path.join(real_input, "sub", name, "part-00000-of-00002.parquet"),
            kind != "glob" and not is_file,
        ),
        "sibling": (os.path.join(root, "elsewhere", f"{name}.parquet"), False),
        "prefix-sibling": (os.path.join(root, "in2", f"{name}.parquet"), False),
        "parent": (os.path.join(root, f"{name}.parquet"), False),
    }[relation]
    written = spell(target, how, root)
    if refused:
        with pytest.raises(BadArgument, match="lies inside, the input"):
            overlap.refuse(written, data, "--output")
    else:
        overlap.refuse(written, data, "--output")


@pytest.mark.parametrize(
    ("target", "data"),
    [("s3://bucket/in/a.parquet", "s3://bucket/in/"), ("s3://bucket/in/x/p.parquet", "s3://bucket/in/*")],
)
def test_remote_outputs_inside_remote_inputs_are_refused(target, data):
    """URLs are compared by protocol and path, without touching the network."""
    with pytest.raises(BadArgument):
        overlap.refuse(target, data, "--output")


def test_files_the_input_lists_are_outputs_too(tmp_path):
    """A folder input may list a link to a file elsewhere: writing that file would replace an input's bytes."""
    outside = tmp_path / "outside.parquet"
    outside.write_bytes(b"x")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "b.parquet").symlink_to(outside)
    with pytest.raises(BadArgument):
        overlap.refuse(str(outside), str(tmp_path / "in"), "--output", listed=[str(tmp_path / "in" / "b.parquet")])


@pytest.mark.parametrize("spelled", ["file://{}", "local://{}", "simplecache::file://{}", "filecache::file://{}"])
def test_urls_naming_a_local_input_are_refused(tmp_path, spelled):
    """A URL for the local input file (plain or with a cache chained in front) is the input."""
    data = tmp_path / "a.parquet"
    data.write_bytes(b"x")
    with pytest.raises(BadArgument):
        overlap.refuse(spelled.format(data), str(data), "--output")
    with pytest.raises(BadArgument):
        overlap.refuse(str(data), spelled.format(data), "--output")


# A glob token and a text it matches: a name holding the token, and the same name with that text instead.
TOKENS = [("?", "x"), ("*", "zz"), ("[ab]", "a"), ("[!c]", "d"), ("??", "xy")]
globbed = st.tuples(names, st.sampled_from(TOKENS), st.text(alphabet="ab1{} é", max_size=4))


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=globbed, where=st.sampled_from(["local", "s3"]))
def test_an_input_that_exists_is_that_path_not_a_pattern(tmp_path_factory, parts, where):
    """An input named with glob characters that exists (locally, or as the reader listed it) is that file: an
    output its name would match as a pattern is elsewhere, and is written; the input itself is still refused."""
    head, (token, text), tail = parts
    stem, decoy = f"{head}{token}{tail}", f"{head}{text}{tail}"
    assert overlap._matches(decoy, stem)
    if where == "local":
        root = tmp_path_factory.mktemp("in")
        data, target, listed = str(root / f"{stem}.parquet"), str(root / f"{decoy}.parquet"), None
        open(data, "wb").close()
    else:
        data, target = f"s3://bucket/{stem}.parquet", f"s3://bucket/{decoy}.parquet"
        listed = [f"bucket/{stem}.parquet"]  # the reader found the object itself
    overlap.refuse(target, data, "--output", listed or ())
    with pytest.raises(BadArgument):
        overlap.refuse(data, data, "--output", listed or ())
    if where == "s3":  # not listed as itself: read as a pattern, so what it matches is refused
        with pytest.raises(BadArgument):
            overlap.refuse(target, data, "--output")
