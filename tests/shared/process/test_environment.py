"""Every environment variable the code reads is in ``shared.process.environment`` (the docs' reference uses it)."""

import re
from pathlib import Path

from shared.process.environment import VARIABLES

ROOT = Path(__file__).resolve().parents[3]
_NAME = re.compile(r"\bMODELFLEET_[A-Z0-9_]*[A-Z0-9]\b")
# Patterns, not variables: a parameter's own variables (MODELFLEET_<MODEL>_<PARAM>), built from its spec.
_PER_PARAMETER = re.compile(r"MODELFLEET_(CHURN|LTV|SEGMENT|MODEL)_")


def test_every_variable_the_code_names_is_documented():
    """A ``MODELFLEET_*`` name in shared/ or dispatch/ that the table lacks fails with its file."""
    documented = {name for name, _ in VARIABLES}
    found = {}
    for path in [*ROOT.glob("shared/**/*.py"), *ROOT.glob("dispatch/**/*.py")]:
        for name in _NAME.findall(path.read_text(encoding="utf-8")):
            if not _PER_PARAMETER.match(name):
                found.setdefault(name, path.relative_to(ROOT))
    missing = {name: str(path) for name, path in found.items() if name not in documented}
    assert not missing, f"add these to shared/process/environment.py VARIABLES: {missing}"


def test_each_variable_is_named_once_with_a_sentence():
    names = [name for name, _ in VARIABLES]
    assert len(names) == len(set(names))
    assert all(text.endswith(".") and len(text) > 20 for _, text in VARIABLES)
