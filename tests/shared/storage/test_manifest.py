"""A manifest that is not what this build wrote, in any key, is refused as an artifact (exit 3), never a crash.

Mutations are generated over a real churn version's manifest: any key removed, or any value replaced by one of
another type or shape, then ``describe`` and ``score`` run through the real entry point and the library.
"""

import contextlib
import importlib.util
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch import cli
from shared.errors import ArtifactRejected
from shared.storage import manifest as shape
from shared.storage.store import MANIFEST, Store

pytestmark = pytest.mark.skipif(importlib.util.find_spec("lightgbm") is None, reason="needs the churn extra")

# Keys the schema names, whose wrong value must be refused (the rest are free for newer builds to add).
STRICT = {"schema_version", "model", "version", "committed_at", "files", "features", "metrics", "rows", "split"}
STRICT |= {"as_of", "libraries", "label", "prediction", "params", "data", "attempt"}

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


@pytest.fixture(scope="module")
def version(tmp_path_factory):
    """A store with one small churn version; yields its store URL, version id and manifest path."""
    from models.churn import Churn

    store = str(tmp_path_factory.mktemp("store"))
    done = Churn(store=store).train(n_estimators=5)
    path = f"{store}/churn/versions/{done['version']}/{MANIFEST}"
    return store, done["version"], path


@contextlib.contextmanager
def edited(path, change):
    """Apply ``change`` to the manifest at ``path`` for the block's duration, as a hand edit would."""
    original = Path(path).read_bytes()
    manifest = json.loads(original)
    change(manifest)
    Path(path).write_text(json.dumps(manifest))
    try:
        yield manifest
    finally:
        Path(path).write_bytes(original)


def _paths(value, prefix=()):
    """Every key path into a manifest, leaves and inner nodes."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield (*prefix, key)
            yield from _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value[:2]):
            yield (*prefix, index)
            yield from _paths(inner, (*prefix, index))


def _mutate(manifest, where, value, delete):
    node = manifest
    for key in where[:-1]:
        node = node[key]
    if delete:
        del node[where[-1]]
    else:
        node[where[-1]] = value


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_mutated_manifest_is_used_correctly_or_refused_with_3(version, capsys, data):
    store, version_id, path = version
    manifest = json.loads(Path(path).read_bytes())
    where = data.draw(st.sampled_from(sorted(_paths(manifest), key=str)))
    delete = data.draw(st.booleans())
    value = data.draw(junk)
    with edited(path, lambda m: _mutate(m, where, value, delete)) as manifest:
        outputs = {}
        for command in ("describe", "score"):
            args = ["churn", command, f"--store={store}"]
            code = cli.main(args + [f"--version={version_id}", "--dry_run"] * (command == "score"))
            out, err = capsys.readouterr()
            assert code in (0, 3), (where, delete, value, err[-400:])
            assert "Traceback" not in err
            outputs[command] = (code, out)
        try:
            shape.Manifest.model_validate(manifest)
            conforming = True
        except ValueError:
            conforming = False
        if not conforming:  # what the schema refuses, every reader refuses
            assert outputs["score"][0] == 3, (where, delete, value)
            unreadable = json.loads(outputs["describe"][1])["unreadable_versions"]
            assert [version_id] == [u["version"] for u in unreadable]  # listed, with its reason
            with pytest.raises(ArtifactRejected, match="manifest"):
                Store(store).resolve("churn", version_id)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m.pop("files"), "files: field required"),
        (lambda m: m.update(files=[]), "files: list should have at least 1 item"),
        (lambda m: m["files"][0].update(size="20110"), "files.0.size: input should be a valid integer"),
        (lambda m: m["files"][0].update(size=True), "files.0.size: input should be a valid integer"),
        (lambda m: m["files"][0].update(sha256="abc"), "files.0.sha256: string should match pattern"),
        (lambda m: m["features"][0].update(kind="date"), "features.0.kind: input should be 'numeric' or 'categorical'"),
        (lambda m: m.update(committed_at="yesterday"), "committed_at: must be an ISO 8601 time"),
        (lambda m: m.update(metrics={"auc": "high"}), "metrics.auc: input should be a valid number"),
        (lambda m: m.update(as_of="2024-13-01"), "as_of: must be a date, YYYY-MM-DD"),
        (
            lambda m: m.update(features={"numeric": [], "categorical": {}}),
            "manifest: a schema 2 manifest lists its features in order: 'features' must be a list",
        ),
    ],
)
def test_the_message_names_the_key_and_what_it_should_be(version, change, message):
    store, version_id, path = version
    with edited(path, change), pytest.raises(ArtifactRejected) as caught:
        Store(store).resolve("churn", version_id)
    assert message in str(caught.value), str(caught.value)
    assert "\n" not in str(caught.value)


def test_keys_a_newer_build_adds_are_kept(version):
    store, version_id, path = version
    with edited(path, lambda m: m.update(drift_profile={"bins": [1, 2]})):
        assert Store(store).resolve("churn", version_id)["drift_profile"] == {"bins": [1, 2]}
