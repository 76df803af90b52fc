"""`modelfleet new NAME` refuses every name tox reads as an interpreter, by tox's own rule (tox is installed here).

A model's tox environment is named after it; tox runs an environment named like a Python (`py311`, `cpython`,
`pypy3`) with that Python. The scaffold cannot import tox (it is no dependency of modelfleet), so it holds a
regex; these tests check it against tox's `extract_base_python` over generated names.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch import scaffold

api = pytest.importorskip("tox.tox_env.python.api", reason="tox is installed in the `scaffold` env")

IMPLEMENTATIONS = ["py", "pypy", "cpython", "jython", "graalpy", "rustpython", "ironpython", "python", "cpy", "p"]

# Names as `new` takes them (lowercase letters and digits, words joined by underscores), built from interpreter
# names, versions and the suffixes tox knows (t: free-threaded, d: debug), and any such name at all.
model_names = st.one_of(
    st.builds(
        lambda impl, version, suffix, tail: f"{impl}{version}{suffix}{tail}",
        st.sampled_from(IMPLEMENTATIONS),
        st.one_of(st.just(""), st.integers(0, 99999).map(str)),
        st.sampled_from(["", "t", "d", "td", "dt", "x"]),
        st.sampled_from(["", "_model", "2"]),
    ),
    st.from_regex(r"[a-z][a-z0-9]{0,12}", fullmatch=True),
).filter(lambda name: scaffold._NAME.fullmatch(name) is not None)


def tox_reads_an_interpreter(name: str) -> bool:
    """What tox does with an environment of this name: picks its Python from it, or (``py``) its own default."""
    return name == "py" or api.Python.extract_base_python(name) is not None


@settings(max_examples=400, deadline=None)
@given(name=model_names)
def test_the_scaffold_rule_is_tox_own(name):
    """The regex refuses a name exactly when tox reads it as an interpreter."""
    assert bool(scaffold._TOX_PYTHON.fullmatch(name)) == tox_reads_an_interpreter(name), name


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.builds(
        lambda impl, version, suffix: f"{impl}{version}{suffix}",
        st.sampled_from(IMPLEMENTATIONS[:7]),
        st.one_of(st.just(""), st.integers(2, 999).map(str)),
        st.sampled_from(["", "t", "d", "td"]),
    ).filter(tox_reads_an_interpreter)
)
def test_new_refuses_an_interpreter_name_and_writes_nothing(modelfleet, tmp_path_factory, name):
    """Through the command line: 64, one line saying why and what to do, nothing written."""
    cwd = tmp_path_factory.mktemp("new")
    done = modelfleet(["new", name, "--package=pkg"], cwd=cwd)
    assert done.returncode == 64, done.stderr
    assert done.stderr.startswith(f"modelfleet: error: model name {name!r} is what tox reads as a Python")
    assert "choose another" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not list(cwd.iterdir())


def test_the_examples_of_the_issue():
    """cpython was accepted; tox reads it as CPython. The suggested name is one tox does not read."""
    for name in ["cpython", "py", "py3", "py311", "py313t", "pypy3", "graalpy", "ironpython"]:
        assert tox_reads_an_interpreter(name)
        assert scaffold._TOX_PYTHON.fullmatch(name)
        assert not tox_reads_an_interpreter(f"{name}_model")
    for spec in ["3.11", "cpython-3.12", "pypy-3.10", "py3.12"]:  # tox reads these too; no model is named so
        assert tox_reads_an_interpreter(spec)
        assert scaffold._NAME.fullmatch(spec) is None
