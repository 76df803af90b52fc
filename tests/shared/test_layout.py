"""shared/'s layout stays what its docstrings say (issue 27).

- A module past ``MAX_LINES`` lines says, in its docstring, why it is one cohesive thing ("One cohesive thing:").
- Every subpackage of shared/ has an ``__init__.py`` whose docstring names each of its modules: the docstrings
  are the map of shared/, and stay a true one.
- tests/shared mirrors shared/: ``tests/shared/<sub>/test_<m>.py`` (or ``test_<m>_<aspect>.py``, one aspect of
  ``m`` in a file of its own) tests the module ``shared/<sub>/<m>.py``, which exists.

Only the files are read (``ast``), nothing is imported: this runs with no model's extra installed.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT / "shared"
TESTS = ROOT / "tests" / "shared"
MAX_LINES = 400
COHESIVE = "One cohesive thing:"


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _modules() -> list[Path]:
    return sorted(p for p in SHARED.rglob("*.py") if "__pycache__" not in p.parts)


def _subpackages() -> list[Path]:
    return sorted(p for p in SHARED.iterdir() if p.is_dir() and p.name != "__pycache__" and any(p.glob("*.py")))


def _docstring(path: Path) -> str:
    return ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""


def _too_long_without_reason(path: Path) -> bool:
    return len(path.read_text(encoding="utf-8").splitlines()) > MAX_LINES and COHESIVE not in _docstring(path)


def _unnamed_modules(package: Path) -> list[str]:
    """The modules of ``package`` its ``__init__.py``'s docstring does not name (all of them if it has none)."""
    init = package / "__init__.py"
    doc = _docstring(init) if init.exists() else ""
    modules = sorted(p.stem for p in package.glob("*.py") if p.name != "__init__.py")
    if not doc.strip():
        return modules or ["__init__.py"]
    dotted = rf"shared[./]{re.escape(package.name)}[./]"
    return [m for m in modules if not re.search(rf"`(?:{dotted})?{re.escape(m)}(?:\.py)?`", doc)]


@pytest.mark.parametrize("path", _modules(), ids=_relative)
def test_a_long_module_says_why_it_is_one_cohesive_thing(path):
    """A module past MAX_LINES lines has "One cohesive thing:" and its reason in its docstring, or is split."""
    assert not _too_long_without_reason(path), (
        f"{_relative(path)} has {len(path.read_text(encoding='utf-8').splitlines())} lines (more than {MAX_LINES}) "
        f"and its docstring gives no reason to stay whole: split it by what its parts do, or add a sentence "
        f"starting {COHESIVE!r} that says why it is one thing"
    )


@pytest.mark.parametrize("package", _subpackages(), ids=_relative)
def test_a_subpackage_docstring_names_each_of_its_modules(package):
    """Each subpackage's ``__init__.py`` has a docstring, and it names (``name``) every module beside it."""
    init = package / "__init__.py"
    assert init.exists(), f"{_relative(package)} has no __init__.py: a subpackage says what it holds in one"
    assert _docstring(init).strip(), f"{_relative(init)} has no docstring: say what the subpackage holds"
    unnamed = _unnamed_modules(package)
    assert not unnamed, f"the docstring of {_relative(init)} does not name {unnamed}: add a line on what each holds"


def _test_files() -> list[Path]:
    """The test files of tests/shared but this one (it tests the layout of shared/ as a whole)."""
    return sorted(p for p in TESTS.rglob("test_*.py") if p != Path(__file__).resolve())


@pytest.mark.parametrize("test_file", _test_files(), ids=_relative)
def test_tests_mirror_the_layout(test_file):
    """``tests/shared/<sub>/test_<m>[_<aspect>].py`` names a module ``shared/<sub>/<m>.py`` that exists."""
    folder = SHARED / test_file.parent.relative_to(TESTS)
    assert folder.is_dir(), f"{_relative(test_file.parent)} mirrors no subpackage: there is no {_relative(folder)}"
    name = test_file.stem.removeprefix("test_")
    modules = {p.stem for p in folder.glob("*.py") if p.name != "__init__.py"}
    named = [m for m in modules if name == m or name.startswith(f"{m}_")]
    assert named, (
        f"{_relative(test_file)} names no module of {_relative(folder)}: its name must be test_<module>.py or "
        f"test_<module>_<aspect>.py for one of {sorted(modules)}; move or rename it"
    )
