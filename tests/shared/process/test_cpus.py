"""CPUs available to this process: affinity capped by the container's CPU quota."""

import os

import pytest

from shared.process import cpus


@pytest.mark.parametrize(
    ("cpu_max", "expected"),
    [("max 100000", 2), ("100000 100000", 1), ("150000 100000", 2), ("50000 100000", 1), ("junk", 2)],
)
def test_a_cgroup_v2_quota_caps_the_threads(tmp_path, monkeypatch, cpu_max, expected):
    """A pod limited to 1.5 CPUs gets 2 threads, to 0.5 CPU 1; no limit leaves the affinity."""
    (tmp_path / "cpu.max").write_text(cpu_max + "\n")
    monkeypatch.setattr(cpus, "CGROUP_V2", str(tmp_path / "cpu.max"))
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    assert cpus.available() == expected


def test_affinity_limits_the_threads(monkeypatch, tmp_path):
    monkeypatch.setattr(cpus, "CGROUP_V2", str(tmp_path / "none"))
    monkeypatch.setattr(cpus, "CGROUP_V1", (str(tmp_path / "q"), str(tmp_path / "p")))
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3})
    assert cpus.available() == 1
