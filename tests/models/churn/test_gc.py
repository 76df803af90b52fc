"""gc: old versions go, what an alias names (now or in its recent events) and attempts being written stay."""

import json
import os
import subprocess
import sys
import time

import pytest

from models.churn import Churn
from shared.errors import MissingInput
from shared.storage.store import Store


@pytest.fixture
def fleet(tmp_path):
    model = Churn(store=str(tmp_path / "store"))
    for k in range(1, 7):
        model.train(run_id=f"v{k}", n_estimators=3)
    model.promote(alias="champion", version="v1")
    model.promote(alias="champion", version="v2")  # champion's events name v1 and v2
    return model, tmp_path


def run(modelfleet, root, *args):
    done = modelfleet(["churn", "gc", f"--store={root / 'store'}", *args], cwd=root)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_without_delete_nothing_is_removed(modelfleet, fleet):
    _, root = fleet
    planned = run(modelfleet, root, "--keep=2")
    assert planned["would_remove"] == ["v3", "v4"]
    assert {k["version"]: k["because"] for k in planned["kept"]} == {
        "v6": ["one of the 2 newest"],
        "v5": ["one of the 2 newest"],
        "v1": ["named by champion"],
        "v2": ["named by champion"],
    }
    assert [m["version"] for m in Store(str(root / "store")).versions("churn")] == [f"v{k}" for k in range(1, 7)]
    assert run(modelfleet, root, "--keep=2", "--delete", "--dry_run")["would_remove"] == ["v3", "v4"]
    assert len(Store(str(root / "store")).versions("churn")) == 6


def test_delete_removes_exactly_what_the_plan_listed(modelfleet, fleet):
    model, root = fleet
    planned = run(modelfleet, root, "--keep=2")["would_remove"]
    removed = run(modelfleet, root, "--keep=2", "--delete")["removed"]
    assert removed == planned
    for version in removed:
        with pytest.raises(MissingInput):
            model.evaluate(version=version)
        assert not (root / "store" / "churn" / "versions" / version).exists()
    for version in ("v1", "v2", "v5", "v6"):
        assert model.evaluate(version=version)["version"] == version
    assert model.score(version="champion")["version"] == "v2"


def test_keep_events_bounds_how_far_back_an_alias_protects(modelfleet, fleet):
    model, root = fleet
    model.promote(alias="champion", version="v3")
    model.promote(alias="champion", version="v4")  # events: v1, v2 (replaces v1), v3 (v2), v4 (v3)
    planned = run(modelfleet, root, "--keep=1", "--keep_events=1")
    assert planned["would_remove"] == ["v1", "v2", "v5"]  # the last event names v4 and the v3 it replaced
    assert run(modelfleet, root, "--keep=1", "--keep_events=4")["would_remove"] == ["v5"]


def test_an_attempt_being_written_is_never_removed_a_stale_one_is(modelfleet, fleet):
    _, root = fleet
    young = root / "store" / "churn" / "versions" / "v9" / "0123456789ab"
    young.mkdir(parents=True)
    (young / "model.txt").write_text("being written")
    stale = root / "store" / "churn" / "versions" / "v8" / "ba9876543210"
    stale.mkdir(parents=True)
    (stale / "model.txt").write_text("its writer died")
    day_ago = time.time() - 25 * 3600
    os.utime(stale / "model.txt", (day_ago, day_ago))
    done = run(modelfleet, root, "--keep=10", "--delete")
    assert done["removed"] == ["v8"]
    assert [a["version"] for a in done["uncommitted"]] == ["v8", "v9"]
    assert (young / "model.txt").exists()
    assert not stale.parent.exists()


def test_a_version_promoted_while_gc_removes_it_is_put_back(fleet, monkeypatch):
    model, root = fleet
    store_cls = Store
    retire = store_cls.retire

    def retire_while_someone_promotes(self, name, version):
        body = retire(self, name, version)
        if version != "v3":
            return body
        events = root / "store" / "churn" / "aliases" / "champion"
        before = len(list(events.iterdir()))
        reinstated = store_cls(self.url)
        reinstated.reinstate(name, version, body)  # the promoter read the manifest before gc removed it ...
        model.promote(alias="champion", version=version)
        retire(reinstated, name, version)  # ... and gc's removal landed just before its event
        assert len(list(events.iterdir())) == before + 1
        return body

    monkeypatch.setattr(store_cls, "retire", retire_while_someone_promotes)
    result = model.gc(keep=2, delete=True)
    monkeypatch.undo()
    assert "v3" not in result["removed"]
    assert model.score(version="champion")["version"] == "v3"


TRAINER = """
import sys
from models.churn import Churn
model = Churn(store=sys.argv[1])
for k in range(3):
    model.train(run_id=f"{sys.argv[2]}-{k}", n_estimators=3)
"""


def test_gc_running_against_concurrent_trains_never_leaves_a_half_removed_version(fleet):
    """Three processes commit versions while gc --keep=1 --delete runs over and over: every train commits,
    and every version the store lists afterwards loads whole (no manifest without its files)."""
    model, root = fleet
    store = str(root / "store")
    trainers = [
        subprocess.Popen([sys.executable, "-c", TRAINER, store, f"t{i}"], cwd=root, stderr=subprocess.PIPE)
        for i in range(3)
    ]
    while any(proc.poll() is None for proc in trainers):
        model.gc(keep=1, delete=True)
    errors = [proc.communicate()[1][-500:] for proc in trainers]
    assert [proc.returncode for proc in trainers] == [0, 0, 0], errors
    model.gc(keep=1, delete=True)
    listed, unreadable = Store(store).listing("churn")
    assert not unreadable
    for manifest in listed:
        assert model.evaluate(version=manifest["version"])["version"] == manifest["version"]
    assert listed[-1]["version"].startswith("t")  # the newest commit is one of the trainers'
    assert not Store(store).uncommitted("churn")


def test_kept_lists_only_what_is_there_newest_first(modelfleet, fleet):
    model, root = fleet
    model.promote(alias="champion", version="v3")
    Store(str(root / "store")).retire("churn", "v1")  # removed by hand: champion's events still name it
    Store(str(root / "store")).purge("churn", "v1")
    plans = [run(modelfleet, root, "--keep=1") for _ in range(2)]
    assert plans[0] == plans[1]
    assert [k["version"] for k in plans[0]["kept"]] == ["v6", "v3", "v2"]
