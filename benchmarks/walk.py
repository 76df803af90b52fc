"""The call walk of `score` and `train`: how often following a command's data climbs back to a module it left.

A layered ``shared/`` should let one read a command top to bottom: the command calls a stage, the stage does its
work in its own module and the modules below, and the command moves on. Every time the command's calls come
back into a module they already left, a reader (and the data) climbs back up. This script counts that.

The walk, precisely:

1. Run the command in this process (``Churn(store=...).score(data=..., output=...)`` on a version trained just
   before; ``Churn(store=...).train(n_estimators=20, compile=...)`` into a fresh store) under
   :func:`sys.setprofile`, in the calling thread, and keep every Python ``call`` event (a function entered, or a
   generator resumed) whose module name starts with ``shared.``.
2. Keep the calls below the command function (``shared.commands.score.score``, ``shared.commands.train.train``)
   at depth 1..D, D = 1 by default (``--depth``; at 2, each stage's own calls into the families' hooks show
   too). Depth counts shared frames only, between the command's frame
   (depth 0) and the call's: a frame of pandas, LightGBM, the standard library or ``models/`` adds nothing, so
   ``model._predict`` handed to pandas is as deep as if the command had called it itself. The command's
   **spine** is depth 0 too and no step: its own module and the pipeline module that runs it
   (``shared.pipelines.score``), which call the stages in order. What the walk follows is what the spine
   calls: the stages, and what they call.
3. Leave out ``shared.errors`` and ``shared.process.*`` (stopping, progress, atomic files, failures, CPUs):
   every layer uses them, and they are not places the data goes. Their frames do not count towards depth
   either. Also left out, as Python implementation details: comprehension and generator-expression frames
   (transparent, like a frame outside shared; Python 3.12 inlines comprehensions) and module bodies run by an
   import inside the command, with everything they call (a first import is no step of the data; the commands
   also run once unmeasured first, so that lazy imports and caches are warm as in a long-lived process).
4. Map each kept call to its module, in the order the calls happen, and merge consecutive repeats: that
   sequence of modules is the walk.

- **modules**: the number of distinct modules in the walk.
- **climbs back**: the steps of the walk into a module that already appeared earlier in it, in the same
  **phase**. A pipeline's ``plan`` and ``run`` are two phases (the plan checks what the run then does: the
  second pass over a module is the design, not a climb back); a command with no pipeline is one phase. A walk
  that goes down and never returns has none; a spine that calls each stage's module once has none.

Usage: ``PYTHONPATH=. python benchmarks/walk.py [--depth D] [--compile auto|on|off] [--verbose]`` prints, for
score then train, the walk, its module count and its climbs back. Training runs with ``--compile=off`` unless
told otherwise (the compiled library needs a C compiler; the walk must not depend on the machine).
``tests/models/churn/test_walk.py`` imports :func:`measure` and holds the climbs back to a ceiling.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEPTH = 1  # calls at depth 1..DEPTH below the command's spine are the walk: the stages it calls, in order
EXCLUDED = ("shared.errors", "shared.process")  # used by every layer; not places the data goes
TRANSPARENT = frozenset({"<listcomp>", "<dictcomp>", "<setcomp>", "<genexpr>"})  # frames of one expression
COMMANDS = {"score": "shared.commands.score", "train": "shared.commands.train"}
PHASES = ("plan", "run")  # the functions of a pipeline module that start a phase of the walk
PHASE = "phase:"  # how a phase's start shows in the walk
SPINES = {name: (module, f"shared.pipelines.{name}") for name, module in COMMANDS.items()}  # depth 0, no step
SCORE_ROWS, SCORE_SEED = 2000, 3  # the scoring input: rows of churn's embedded sample
N_ESTIMATORS = 20  # enough trees to be a model, few enough to train in about a second


@dataclass(frozen=True)
class Call:
    """One kept call event: its depth below the command, its module and the function entered."""

    depth: int
    module: str
    function: str


@dataclass(frozen=True)
class Walk:
    """The walk of one command: its modules in call order (consecutive repeats merged)."""

    command: str  # the command's module, e.g. shared.commands.score
    depth: int
    steps: tuple[str, ...]
    entries: tuple[str, ...]  # per step, the first function entered there (module.qualname)

    @property
    def modules(self) -> int:
        """Distinct modules in the walk."""
        return len({step for step in self.steps if not step.startswith(PHASE)})

    @property
    def climbs(self) -> tuple[int, ...]:
        """The positions of the steps into a module already seen earlier (not the command's own)."""
        seen: set[str] = set()
        found = []
        for position, module in enumerate(self.steps):
            if module.startswith(PHASE):
                seen = set()  # a new phase reads from the top
            elif module in seen:
                found.append(position)
            seen.add(module)
        return tuple(found)

    @property
    def climbs_back(self) -> int:
        return len(self.climbs)


def _kept(module: str) -> bool:
    return module.startswith("shared.") and not any(
        module == excluded or module.startswith(f"{excluded}.") for excluded in EXCLUDED
    )


def _counts(frame: Any, spine: tuple[str, ...] = ()) -> bool:
    """Whether ``frame`` counts as one level of depth: a function of a kept shared module, not of the spine."""
    module = frame.f_globals.get("__name__", "")
    return _kept(module) and module not in spine and frame.f_code.co_name not in TRANSPARENT


@contextlib.contextmanager
def recording(command: Callable[..., Any], depth: int = DEPTH, spine: tuple[str, ...] = ()) -> Iterator[list[Call]]:
    """Record, while the block runs, the calls at depth 1..``depth`` below ``command`` (a function's code);
    frames of the ``spine`` modules are depth 0 and no call."""
    code = command.__code__
    calls: list[Call] = []

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event != "call" or frame.f_code.co_name == "<module>":
            return
        module = frame.f_globals.get("__name__", "")
        if module in spine[1:] and frame.f_code.co_name in PHASES:
            calls.append(Call(0, f"{PHASE}{frame.f_code.co_name}", frame.f_code.co_name))
            return
        if not _counts(frame, spine):
            return
        level, up = 1, frame.f_back
        while up is not None and up.f_code is not code:
            if up.f_code.co_name == "<module>":
                return  # a module body an import runs: no step of the data
            level += _counts(up, spine)
            up = up.f_back
        if up is not None and level <= depth:
            calls.append(Call(level, frame.f_globals["__name__"], frame.f_code.co_qualname))

    before = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield calls
    finally:
        sys.setprofile(before)


def walk_of(calls: list[Call], command: str, depth: int = DEPTH) -> Walk:
    """The walk of recorded ``calls`` below ``command`` (its module's name): modules in order, repeats merged."""
    steps: list[str] = []
    entries: list[str] = []
    for call in calls:
        if not steps or steps[-1] != call.module:
            steps.append(call.module)
            entries.append(f"{call.module}.{call.function}")
    return Walk(command, depth, tuple(steps), tuple(entries))


def _function(command: str) -> Callable[..., Any]:
    return getattr(importlib.import_module(COMMANDS[command]), command)


def walk_train(workdir: Path, depth: int = DEPTH, compile: str = "off") -> Walk:
    """The walk of ``Churn.train(n_estimators=20)`` on its embedded sample, into a fresh store in ``workdir``
    (after one unmeasured training into another)."""
    from models.churn import Churn

    Churn(store=str(Path(workdir) / "train-warm-up")).train(n_estimators=N_ESTIMATORS, compile=compile)
    with recording(_function("train"), depth, SPINES["train"]) as calls:
        Churn(store=str(Path(workdir) / "train")).train(n_estimators=N_ESTIMATORS, compile=compile)
    return walk_of(calls, COMMANDS["train"], depth)


def walk_score(workdir: Path, depth: int = DEPTH, compile: str = "off") -> Walk:
    """The walk of ``Churn.score(data=..., output=...)`` of a 2,000-row Parquet file with a version trained in
    ``workdir`` (after one unmeasured scoring of the same file into another output)."""
    from models.churn import Churn

    store = str(Path(workdir) / "score-store")
    Churn(store=store).train(n_estimators=N_ESTIMATORS, compile=compile)
    data = Path(workdir) / "input.parquet"
    Churn()._sample_frame(SCORE_ROWS, SCORE_SEED).to_parquet(data)
    Churn(store=store).score(data=str(data), output=str(Path(workdir) / "warm-up.parquet"))
    with recording(_function("score"), depth, SPINES["score"]) as calls:
        Churn(store=store).score(data=str(data), output=str(Path(workdir) / "predictions.parquet"))
    return walk_of(calls, COMMANDS["score"], depth)


def measure(workdir: Path | None = None, depth: int = DEPTH, compile: str = "off") -> dict[str, Walk]:
    """The walks of score and train, run in ``workdir`` (default: a temporary folder, removed after)."""
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="modelfleet-walk-") as folder:
            return measure(Path(folder), depth, compile)
    return {
        "score": walk_score(Path(workdir), depth, compile),
        "train": walk_train(Path(workdir), depth, compile),
    }


def show(name: str, walk: Walk, verbose: bool = False) -> str:
    """The walk as text: one step a line (climbs back marked), then its module count and climbs back."""
    climbs = set(walk.climbs)
    lines = [f"{name}: the walk below {walk.command}.{name}, depth 1..{walk.depth}"]
    for position, (module, entry) in enumerate(zip(walk.steps, walk.entries, strict=True)):
        mark = "  <- climbs back" if position in climbs else ""
        lines.append(f"  {position:3d} {entry if verbose else module}{mark}")
    lines.append(f"{name}: {len(walk.steps)} steps, {walk.modules} modules, {walk.climbs_back} climbs back")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=DEPTH, help=f"deepest call kept (default {DEPTH})")
    parser.add_argument("--compile", choices=("auto", "on", "off"), default="off", help="train's --compile")
    parser.add_argument("--verbose", action="store_true", help="name the function each step enters")
    args = parser.parse_args()
    for name in [name for name in os.environ if name.startswith("MODELFLEET_")]:
        del os.environ[name]  # the shell's settings would change what the commands do
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import shared

    print(f"shared from {Path(shared.__file__).parent}")
    walks = measure(depth=args.depth, compile=args.compile)
    for name, walk in walks.items():
        print(show(name, walk, args.verbose))
    print(" ".join(f"{name}: {walk.modules} modules, {walk.climbs_back} climbs back;" for name, walk in walks.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
