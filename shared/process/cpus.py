"""How many CPUs this process may use: its CPU affinity, capped by a container's CPU quota.

LightGBM's OpenMP runtime starts one thread per core of the machine, whatever a Kubernetes CPU limit says; in
a pod limited to 2 CPUs on a 64-core node that is 64 threads fighting over 2 CPUs. modelfleet asks for this
many threads instead, for "0 = every core" in training and for every prediction.
"""

from __future__ import annotations

import math
import os

CGROUP_V2 = "/sys/fs/cgroup/cpu.max"
CGROUP_V1 = ("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu/cpu.cfs_period_us")


def available() -> int:
    """CPUs this process may use: at least 1."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cpus = os.cpu_count() or 1
    quota = _quota()
    return max(1, min(cpus, math.ceil(quota)) if quota else cpus)


def _quota() -> float | None:
    """The CPU quota of this container (cgroup v2, else v1) in CPUs, or None if unlimited or unknown."""
    try:
        if os.path.exists(CGROUP_V2):
            limit, period = _read(CGROUP_V2).split()[:2]
            return None if limit == "max" else int(limit) / int(period)
        quota, every = (int(_read(path)) for path in CGROUP_V1)
        return None if quota <= 0 else quota / every
    except (OSError, ValueError):
        return None


def _read(path: str) -> str:
    with open(path) as handle:
        return handle.read()
