"""The call walk of score and train (benchmarks/walk.py): how often following the data climbs back to a module.

benchmarks/ is no package and ships in no wheel: walk.py is imported by its path. A command that reads top to bottom
(its plan, then its run, each calling its stages in order) climbs back at most CEILING times.
"""

import importlib.util
import sys
from pathlib import Path

import pytest

WALK = Path(__file__).resolve().parents[3] / "benchmarks" / "walk.py"
CEILING = 8  # climbs back per command


def load_walk():
    """benchmarks/walk.py as a module."""
    spec = importlib.util.spec_from_file_location("modelfleet_benchmarks_walk", WALK)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


walk = load_walk()


@pytest.fixture(scope="module")
def walks(tmp_path_factory):
    """The walks of score and train (the stages their spines call, train with --compile=off), measured once."""
    return walk.measure(tmp_path_factory.mktemp("walk"))


def test_a_climb_back_is_a_return_to_a_module_left_earlier_in_the_same_phase():
    modules = "phase:plan shared.tables.a shared.tables.a shared.storage.b shared.tables.a"
    modules += " phase:run shared.tables.a shared.storage.b shared.tables.c shared.storage.b"
    calls = [walk.Call(1, module, "f") for module in modules.split()]
    found = walk.walk_of(calls, "shared.commands.score")
    assert found.steps == (
        "phase:plan",
        "shared.tables.a",
        "shared.storage.b",
        "shared.tables.a",
        "phase:run",
        "shared.tables.a",
        "shared.storage.b",
        "shared.tables.c",
        "shared.storage.b",
    )
    assert (found.modules, found.climbs) == (3, (3, 8))


def test_the_walks_follow_each_command_into_shared(walks):
    """The measurement itself works: each walk goes below its command into the layers beneath."""
    for name, found in walks.items():
        assert found.command == f"shared.commands.{name}"
        assert found.modules >= 3, walk.show(name, found)
        assert not any(step.startswith(("shared.errors", "shared.process")) for step in found.steps)


def test_score_climbs_back_at_most_eight_times(walks):
    assert walks["score"].climbs_back <= CEILING, walk.show("score", walks["score"])


def test_train_climbs_back_at_most_eight_times(walks):
    assert walks["train"].climbs_back <= CEILING, walk.show("train", walks["train"])
