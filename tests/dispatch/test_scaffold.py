"""`modelfleet new`: what it writes, in a checkout and as a package, and what it refuses with nothing written.

The generated models' own tests, conformance suite and tox environment run end to end in tests/scaffold
(the `scaffold` tox env); here every run is in-process and nothing is installed.
"""

import importlib.util
import json
import os
import re
import shutil
import string
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch import changes, scaffold
from shared.families.boosted import BoostedTreesModel
from shared.families.clustering import ClusteringModel

REPO = Path(__file__).resolve().parents[2]
BASES = {"boosted": BoostedTreesModel, "multiclass": BoostedTreesModel, "clustering": ClusteringModel}
FAMILIES = list(BASES)


@pytest.fixture
def checkout(tmp_path):
    """A modelfleet checkout as far as `new` reads it: this repo's pyproject.toml and tox.ini, and models/."""
    root = tmp_path / "repo"
    (root / "models").mkdir(parents=True)
    for name in ("pyproject.toml", "tox.ini"):
        shutil.copy(REPO / name, root / name)
    return root


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes: what a refused or failed run must leave as it was."""
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def load_model(path: Path, name: str):
    """Import a generated model.py by its path (nothing installed) and return the class it defines."""
    spec = importlib.util.spec_from_file_location(f"generated_{name}_{abs(hash(str(path)))}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return getattr(module, scaffold.class_name(name))


@pytest.mark.parametrize("family", FAMILIES)
def test_checkout_gets_folder_tests_extra_entry_point_and_tox_env(modelfleet, checkout, family):
    """In a checkout: the model and its tests are new files, and pyproject.toml and tox.ini register it, every
    other line they had kept (comments included)."""
    before = {name: (checkout / name).read_text() for name in ("pyproject.toml", "tox.ini")}
    done = modelfleet(["new", "upsell", f"--family={family}"], cwd=checkout / "models")  # from a subfolder too
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["model"] == "upsell"
    assert result["where"] == str(checkout)
    assert result["created"] == [
        "models/upsell/__init__.py",
        "models/upsell/model.py",
        "tests/models/upsell/test_upsell.py",
    ]
    project = tomllib.loads((checkout / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    assert project["entry-points"]["modelfleet.models"]["upsell"] == "models.upsell:Upsell"
    assert extras["upsell"] == extras[family]
    assert extras["all"] == ["modelfleet[churn,ltv,segment,offer,upsell]"]
    assert list(extras).index("upsell") == list(extras).index("offer") + 1  # beside the other models
    tox = (checkout / "tox.ini").read_text()
    assert "env_list = lint, core, churn, ltv, segment, offer, upsell, airflow, scaffold, report, docs\n" in tox
    assert "[testenv:upsell]\n" in tox
    assert "pytest tests/models/upsell tests/models/test_common.py --model=upsell {posargs}" in tox
    for name, text in before.items():  # only the two lists that name every model changed
        kept = (checkout / name).read_text().splitlines()
        lost = [line.partition(" =")[0] for line in text.splitlines() if line not in kept]
        assert lost == (["all"] if name == "pyproject.toml" else ["env_list"])
    cls = load_model(checkout / "models/upsell/model.py", "upsell")
    assert issubclass(cls, BASES[family])
    assert cls.name == "upsell"
    assert (getattr(cls, "objective", None) == "multiclass") == (family == "multiclass")


def test_second_model_goes_after_the_first(modelfleet, checkout):
    """Two models generated one after the other are both registered, in the order they were made."""
    for name in ("upsell", "basket"):
        assert modelfleet(["new", name], cwd=checkout).returncode == 0
    extras = tomllib.loads((checkout / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert extras["all"] == ["modelfleet[churn,ltv,segment,offer,upsell,basket]"]
    tox = (checkout / "tox.ini").read_text()
    assert "env_list = lint, core, churn, ltv, segment, offer, upsell, basket, airflow, scaffold, report, docs\n" in tox


@pytest.mark.parametrize("family", FAMILIES)
def test_package_is_a_whole_installable_project(modelfleet, tmp_path, family):
    """With --package: a new folder holding pyproject (its entry point), the model package, tests and a README."""
    done = modelfleet(["new", "acme", f"--family={family}", "--package=teams/acme-models"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    root = tmp_path / "teams" / "acme-models"
    assert sorted(tree(root)) == [
        "README.md",
        "acme_models/__init__.py",
        "acme_models/acme/__init__.py",
        "acme_models/acme/model.py",
        "pyproject.toml",
        "tests/test_acme.py",
    ]
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    assert project["name"] == "acme-models"
    assert project["entry-points"]["modelfleet.models"] == {"acme": "acme_models.acme:Acme"}
    assert project["dependencies"][0].startswith(f"modelfleet[{family}]")
    assert "conformance.checks(Acme)" in (root / "tests/test_acme.py").read_text()
    assert [path.name for path in (tmp_path / "teams").iterdir()] == ["acme-models"]  # no partial left beside it
    assert issubclass(load_model(root / "acme_models/acme/model.py", "acme"), BASES[family])


@pytest.mark.parametrize("where", ["checkout", "package"])
def test_dry_run_lists_what_a_run_writes_and_writes_nothing(modelfleet, checkout, tmp_path, where):
    """--dry_run names the same files as the real run, and the folder stays as it was."""
    args = ["new", "upsell"] + (["--package=upsell-models"] if where == "package" else [])
    cwd = checkout if where == "checkout" else tmp_path / "empty"
    cwd.mkdir(exist_ok=True)
    before = tree(cwd)
    planned = json.loads(modelfleet([*args, "--dry_run"], cwd=cwd).stdout)
    assert planned["dry_run"] is True
    assert tree(cwd) == before
    done = json.loads(modelfleet(args, cwd=cwd).stdout)
    assert {key: planned[key] for key in done} == done


BAD = [
    (["new"], 2, "missing the new model's NAME"),
    (["new", "--family=boosted"], 2, "missing the new model's NAME"),
    (["new", "upsell", "--family=forest"], 64, "--family"),
    (["new", "upsell", "--famly=boosted"], 2, "unknown flag"),
    (["new", "upsell", "--package=a", "--package=b"], 2, "more than once"),
    (["new", "churn"], 64, "registered already"),
    (["new", "new"], 64, "reserved"),
    (["new", "manifest"], 64, "reserved"),
    (["new", "class"], 64, "reserved"),
    (["new", "shared"], 64, "reserved"),
    (["new", "none"], 64, "reserved"),
    (["new", "boosted_trees_model"], 64, "uses already"),
    (["new", "p_l_a_n_s"], 64, "uses already"),
    (["new", "c_h_a_n_n_e_l_s", "--family=clustering"], 64, "uses already"),
    (["new", "c_h_a_n_n_e_l_s", "--family=multiclass"], 64, "uses already"),
    (["new", "py310"], 64, "Python version"),
    (["new", "cpython"], 64, "Python version"),
    (["new", "churn_train"], 64, "would set both"),
    (["new", "Upsell"], 64, "lowercase"),
    (["new", "up-sell"], 64, "lowercase"),
    (["new", "upsell_"], 64, "lowercase"),
    (["new", "2upsell"], 64, "lowercase"),
    (["new", "upsell", "--package=taken"], 64, "not empty"),
    (["new", "upsell", "--package=taken/file.txt"], 64, "is a file"),
    (["new", "upsell", "--package=shared"], 64, "clash"),
    (["new", "upsell", "--package=json"], 64, "clash"),
    (["new", "upsell", "--package=pytest"], 64, "clash"),
    (["new", "upsell", "--package=1st-models"], 64, "gives a Python package"),
    (["new", "upsell", "--package=café"], 64, "gives a Python package"),
    (["new", "upsell", "--package=abc-"], 64, "gives a Python package"),
    (["new", "upsell", "--package=class"], 64, "clash with a Python keyword"),
    (["new", "upsell", "--package=__main__"], 64, "gives a Python package"),
    (["new", "upsell", "--package=modelfleet"], 64, "installed here already"),
    (["new", "upsell", "--package=PyYAML"], 64, "installed here already"),  # a base dependency, imported as yaml
    (["new", "upsell", "--package=" + "x" * 300], 64, "too long"),
    (["new", "upsell", "--package=."], 64, "the folder you are in"),
    (["new", "upsell", "--package=taken/.."], 64, "the folder you are in"),
    (["new", "upsell"], 64, "not inside a modelfleet checkout"),
    (["new", "upsell", "--package=pkg", "--requirement=numpy>=1"], 64, "requires 'numpy', not modelfleet"),
    (["new", "upsell", "--package=pkg", "--requirement=modelfleet-extras>=1"], 64, "not modelfleet"),
    (["new", "upsell", "--package=pkg", "--requirement=modelfleet>=>1"], 64, "is no PEP 508 requirement"),
    (["new", "upsell", "--package=pkg", "--requirement=modelfleet @"], 64, "is no PEP 508 requirement"),
    (["new", "upsell", "--package=pkg", "--requirement=modelfleet @ foo"], 64, "no scheme pip installs from"),
    (["new", "upsell", "--package=pkg", "--requirement=modelfleet @ https://"], 64, "names no host or file"),
    (["new", "upsell", "--package=pkg", "--requirement=modelfleet\n>=1"], 64, "--requirement"),
]


@pytest.mark.parametrize(("args", "code", "says"), BAD, ids=[" ".join(args) for args, _, _ in BAD])
def test_refused_with_one_line_and_nothing_written(modelfleet, tmp_path, args, code, says):
    """Each bad invocation exits with its code and one line naming the problem, and writes nothing."""
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file.txt").write_text("a team's file\n")
    before = tree(tmp_path)
    done = modelfleet(args, cwd=tmp_path)
    assert done.returncode == code, done.stderr
    assert says in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stdout == ""
    assert tree(tmp_path) == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["taken"]


@pytest.mark.parametrize("name", ["upsell", "basket"])
def test_refuses_a_model_the_checkout_has_already(modelfleet, checkout, name):
    """A name the checkout uses (a folder, or an extra and entry point) is refused, and nothing changes."""
    if name == "upsell":
        (checkout / "models" / "upsell").mkdir()
    else:
        assert modelfleet(["new", "basket"], cwd=checkout).returncode == 0
    before = tree(checkout)
    done = modelfleet(["new", name], cwd=checkout)
    assert done.returncode == 64
    assert "already" in done.stderr
    assert tree(checkout) == before


WRITES = {"checkout": 5, "package": 6}  # files new upsell writes: 3 new + pyproject and tox.ini; a 6-file package


def _fail_write(monkeypatch, failing: int) -> None:
    """Make the write numbered ``failing`` (from 0) fail as a full disk does."""
    write, calls = changes._write_bytes, []

    def failing_write(path, data, mode):
        calls.append(path)
        if len(calls) == failing + 1:
            raise OSError(28, "No space left on device")
        write(path, data, mode)

    monkeypatch.setattr(changes, "_write_bytes", failing_write)


@pytest.mark.parametrize(("where", "failing"), [(where, n) for where, count in WRITES.items() for n in range(count)])
def test_a_failed_write_leaves_everything_as_it_was(modelfleet, checkout, tmp_path, monkeypatch, where, failing):
    """A disk error at any file (the 1st, 2nd, ... write) exits 74, and every file is as before: no model folder,
    no partial, pyproject.toml and tox.ini unchanged."""
    _fail_write(monkeypatch, failing)
    cwd = checkout if where == "checkout" else tmp_path / "empty"
    cwd.mkdir(exist_ok=True)
    before = tree(cwd)
    args = ["new", "upsell"] + (["--package=upsell-models"] if where == "package" else [])
    planned = json.loads(modelfleet([*args, "--dry_run"], cwd=cwd).stdout)
    assert len(planned["created"]) + len(planned["changed"]) == WRITES[where]
    done = modelfleet(args, cwd=cwd)
    assert done.returncode == 74, done.stderr
    assert "No space left on device" in done.stderr
    assert "nothing was written" in done.stderr
    assert tree(cwd) == before
    assert not [path for path in cwd.rglob("*") if "upsell" in path.name]


NAME_CHARACTERS = string.ascii_letters + string.digits + "_-. é"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.text(NAME_CHARACTERS, min_size=1, max_size=45)
    | st.from_regex(r"[a-z][a-z0-9]{0,6}(_[a-z0-9]{1,5}){0,3}", fullmatch=True)
)
def test_any_name_is_generated_under_that_name_or_refused(modelfleet, tmp_path_factory, name):
    """Generated names: a name is either refused (64, one line, nothing written) or gives a model class whose
    registered name is exactly that name, with nothing else to edit."""
    cwd = tmp_path_factory.mktemp("new")
    done = modelfleet(["new", name, "--package=pkg"], cwd=cwd)
    if done.returncode != 0:
        assert done.returncode in (2, 64), done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert not list(cwd.iterdir())
        return
    assert scaffold._NAME.fullmatch(name)
    pyproject = tomllib.loads((cwd / "pkg/pyproject.toml").read_text())
    target = pyproject["project"]["entry-points"]["modelfleet.models"][name]
    module, _, attr = target.partition(":")
    assert module == f"pkg.{name}"
    cls = load_model(cwd / "pkg" / "pkg" / name / "model.py", name)
    assert cls.__name__ == attr
    assert cls.name == name


def test_the_readme_shows_what_new_writes(modelfleet, checkout):
    """The class in the guide 'Adding a model' is the one `new upsell` writes (its declarations)."""
    section = (REPO / "docs" / "guides" / "adding-a-model.md").read_text()
    shown = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert modelfleet(["new", "upsell"], cwd=checkout).returncode == 0
    written = {line.strip() for line in (checkout / "models/upsell/model.py").read_text().splitlines()}
    declared = [line.strip() for line in shown.splitlines() if line.strip() and "_make_sample" not in line]
    assert [line for line in declared if line not in written] == []


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_edited_files_keep_their_mode_line_endings_and_links(modelfleet, checkout):
    """pyproject.toml with CRLF line endings and mode 664 stays CRLF and 664; tox.ini, a link, stays a link and
    the file it names gets the edit; new files get the mode the umask gives."""
    pyproject = checkout / "pyproject.toml"
    pyproject.write_bytes(pyproject.read_bytes().replace(b"\n", b"\r\n"))
    pyproject.chmod(0o664)
    (checkout / "conf").mkdir()
    (checkout / "tox.ini").rename(checkout / "conf" / "tox.ini")
    (checkout / "tox.ini").symlink_to("conf/tox.ini")
    assert modelfleet(["new", "upsell"], cwd=checkout).returncode == 0
    data = pyproject.read_bytes()
    assert data.count(b"\r\n") == data.count(b"\n")
    assert b'upsell = "models.upsell:Upsell"\r\n' in data
    assert pyproject.stat().st_mode & 0o777 == 0o664
    assert (checkout / "tox.ini").is_symlink()
    assert "[testenv:upsell]" in (checkout / "conf" / "tox.ini").read_text()
    assert (checkout / "models/upsell/model.py").stat().st_mode & 0o777 == 0o666 & ~_umask()
    assert (checkout / "models/upsell").stat().st_mode & 0o777 == 0o777 & ~_umask()


def test_an_empty_package_folder_is_kept_with_its_mode(modelfleet, tmp_path):
    """An empty folder given as --package stays the same folder (same inode and mode); the files move into it."""
    folder = tmp_path / "acme-models"
    folder.mkdir(mode=0o750)
    folder.chmod(0o750)
    inode = folder.stat().st_ino
    assert modelfleet(["new", "acme", f"--package={folder}"], cwd=tmp_path).returncode == 0
    assert folder.stat().st_ino == inode
    assert folder.stat().st_mode & 0o777 == 0o750
    assert (folder / "pyproject.toml").stat().st_mode & 0o777 == 0o666 & ~_umask()


ENV_LIST = "env_list = lint, core, churn, ltv, segment, offer, airflow, scaffold, report, docs"  # this repo's tox.ini
MISEDITED = {
    "env_list over lines": ("tox.ini", ENV_LIST, "env_list = lint,\n    core"),
    "no env_list": ("tox.ini", ENV_LIST, ""),
    "all without modelfleet": ("pyproject.toml", 'all = ["modelfleet[churn,ltv,segment,offer]"]', 'all = ["lightgbm"]'),
    "TOML syntax error": ("pyproject.toml", "[build-system]", "[build-system"),
    "tox.ini not UTF-8": ("tox.ini", "[tox]", "[tox] # caf\xe9"),
}


@pytest.mark.parametrize("case", MISEDITED)
def test_a_checkout_edited_out_of_shape_is_refused_78_with_nothing_written(modelfleet, checkout, case):
    """A pyproject.toml or tox.ini `new` cannot edit safely is refused (78) naming the problem; nothing changes."""
    name, old, new_text = MISEDITED[case]
    path = checkout / name
    text = path.read_text()
    assert old in text
    path.write_bytes(text.replace(old, new_text).encode("utf-8", "surrogateescape").replace(b"\xc3\xa9", b"\xe9"))
    before = tree(checkout)
    done = modelfleet(["new", "upsell"], cwd=checkout)
    assert done.returncode == 78, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert tree(checkout) == before


@pytest.mark.parametrize("where", ["checkout", "package"])
def test_a_result_file_among_the_new_files_is_refused_before_anything_is_written(modelfleet, checkout, tmp_path, where):
    """MODELFLEET_RESULT_PATH naming a file `new` would write is refused (64) before any file is written."""
    cwd = checkout if where == "checkout" else tmp_path / "empty"
    cwd.mkdir(exist_ok=True)
    args = ["new", "upsell"] + (["--package=upsell-models"] if where == "package" else [])
    result = "models/upsell/model.py" if where == "checkout" else "upsell-models/pyproject.toml"
    before = tree(cwd)
    done = modelfleet(args, cwd=cwd, env={"MODELFLEET_RESULT_PATH": str(cwd / result)})
    assert done.returncode == 64, done.stderr
    assert "MODELFLEET_RESULT_PATH" in done.stderr
    assert tree(cwd) == before


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("name", ["a" * 40, "test", "testimonial_v2", "x_" * 19 + "y"])
def test_generated_files_are_lint_clean_for_long_and_test_names(modelfleet, checkout, family, name):
    """Whatever the name's length, no generated line passes the 120-character limit, and a class named Test* is
    imported under a name pytest does not collect."""
    assert modelfleet(["new", name, f"--family={family}"], cwd=checkout).returncode == 0
    for path in [*(checkout / "models" / name).iterdir(), *(checkout / "tests/models" / name).iterdir()]:
        assert max(map(len, path.read_text().splitlines())) <= 120, path
    test = (checkout / "tests/models" / name / f"test_{name}.py").read_text()
    assert not re.search(r"^from .* import Test\w*$", test, re.MULTILINE)


# --- the package's requirement on modelfleet: what the running modelfleet was installed from (PEP 610) ---

COMMIT = "0123456789abcdef0123456789abcdef01234567"
DIRECT_URLS = {
    "git, commit and branch": (
        {
            "url": "https://git.example.com/ml/modelfleet.git",
            "vcs_info": {"vcs": "git", "commit_id": COMMIT, "requested_revision": "main"},
        },
        f"modelfleet @ git+https://git.example.com/ml/modelfleet.git@{COMMIT}",
    ),
    "git over ssh, subdirectory": (
        {
            "url": "ssh://git@git.example.com/ml/mono.git",
            "vcs_info": {"vcs": "git", "commit_id": COMMIT},
            "subdirectory": "modelfleet",
        },
        f"modelfleet @ git+ssh://git@git.example.com/ml/mono.git@{COMMIT}#subdirectory=modelfleet",
    ),
    "git, revision only": (
        {"url": "https://git.example.com/ml/modelfleet.git", "vcs_info": {"vcs": "git", "requested_revision": "v0.1"}},
        "modelfleet @ git+https://git.example.com/ml/modelfleet.git@v0.1",
    ),
    "wheel file": (
        {"url": "file:///opt/wheels/modelfleet-0.1.0-py3-none-any.whl", "archive_info": {"hash": "sha256=ab"}},
        "modelfleet @ file:///opt/wheels/modelfleet-0.1.0-py3-none-any.whl",
    ),
    "sdist over https": (
        {"url": "https://files.example.com/modelfleet-0.1.0.tar.gz", "archive_info": {}},
        "modelfleet @ https://files.example.com/modelfleet-0.1.0.tar.gz",
    ),
    "editable folder": (
        {"url": "file:///home/me/src/modelfleet", "dir_info": {"editable": True}},
        "modelfleet @ file:///home/me/src/modelfleet",
    ),
    "local folder": (
        {"url": "file:///home/me/src/modelfleet", "dir_info": {}},
        "modelfleet @ file:///home/me/src/modelfleet",
    ),
}


def dist_info(folder: Path, direct_url: Any) -> Path:
    """A fake modelfleet-*.dist-info folder, with ``direct_url`` as its direct_url.json (a dict, text, or None)."""
    info = folder / "modelfleet-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: modelfleet\nVersion: 0.1.0\n\n")
    if direct_url is not None:
        text = direct_url if isinstance(direct_url, str) else json.dumps(direct_url)
        (info / "direct_url.json").write_text(text)
    return info


@pytest.mark.parametrize("shape", DIRECT_URLS)
def test_the_requirement_is_what_modelfleet_was_installed_from(tmp_path, shape):
    """Each PEP 610 shape gives the requirement that installs the same modelfleet again (a VCS one at its commit)."""
    document, expected = DIRECT_URLS[shape]
    assert scaffold.installed_from(str(dist_info(tmp_path, document))) == expected


def test_installed_from_an_index_or_not_installed_is_a_version(tmp_path, monkeypatch):
    """No direct_url.json (an index install), or no modelfleet dist-info at all: `modelfleet>=VERSION`."""
    from shared import __version__

    assert scaffold.installed_from(str(dist_info(tmp_path, None))) == f"modelfleet>={__version__}"
    monkeypatch.setattr(scaffold.registry, "dist_info", lambda name: None)
    assert scaffold.installed_from() == f"modelfleet>={__version__}"
    assert scaffold.modelfleet_requirement("clustering") == f"modelfleet[clustering]>={__version__}"


@pytest.mark.parametrize(
    "document",
    [
        "{not json",
        "[]",
        json.dumps({"url": "file:///x"}),
        json.dumps({"archive_info": {}}),
        json.dumps({"url": "no scheme", "archive_info": {}}),
        json.dumps({"url": "https://h/x.git", "vcs_info": {}}),
    ],
)
def test_a_direct_url_json_that_is_no_pep_610_document_is_78_naming_the_flag(tmp_path, document):
    """A broken direct_url.json is never guessed around: 78, naming the file and --requirement."""
    from shared.errors import ConfigError

    with pytest.raises(ConfigError, match=r"direct_url\.json.*--requirement=SPEC") as caught:
        scaffold.installed_from(str(dist_info(tmp_path, document)))
    assert caught.value.exit_code == 78
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("shape", ["git, commit and branch", "wheel file", "editable folder"])
def test_a_generated_package_depends_on_the_running_modelfleet(modelfleet, tmp_path, monkeypatch, shape):
    """`new --package` writes that requirement, with the family's extra, into the package's pyproject.toml."""
    info = dist_info(tmp_path / "site", DIRECT_URLS[shape][0])
    monkeypatch.setattr(scaffold.registry, "dist_info", lambda name: str(info) if name == "modelfleet" else None)
    done = modelfleet(["new", "acme", "--family=clustering", "--package=acme-models"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    project = tomllib.loads((tmp_path / "acme-models/pyproject.toml").read_text())["project"]
    assert project["dependencies"] == [DIRECT_URLS[shape][1].replace("modelfleet @", "modelfleet[clustering] @")]


@pytest.mark.parametrize(
    ("given", "written"),
    [
        (
            "modelfleet @ git+https://git.example.com/ml/modelfleet.git@v0.2",
            "modelfleet[boosted] @ git+https://git.example.com/ml/modelfleet.git@v0.2",
        ),
        ("ModelFleet[s3]>=0.1,<0.3", "modelfleet[boosted,s3]<0.3,>=0.1"),
        (
            "modelfleet[boosted] @ file:///opt/modelfleet-0.1.0-py3-none-any.whl",
            "modelfleet[boosted] @ file:///opt/modelfleet-0.1.0-py3-none-any.whl",
        ),
    ],
)
def test_the_requirement_flag_overrides_it_keeping_the_family_extra(modelfleet, tmp_path, given, written):
    done = modelfleet(["new", "acme", "--package=acme-models", f"--requirement={given}"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    project = tomllib.loads((tmp_path / "acme-models/pyproject.toml").read_text())["project"]
    assert project["dependencies"] == [written]


REQUIREMENT_TEXT = st.text(string.ascii_letters + string.digits + " @[]<>=!~,;:/.+#'\"-_\n", max_size=40)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    given_text=REQUIREMENT_TEXT
    | st.from_regex(r"[A-Za-z][A-Za-z0-9._-]{0,12}(\[[a-z]+\])?( ?[<>=!~]=? ?[0-9.]{1,5})?", fullmatch=True)
    | REQUIREMENT_TEXT.map(lambda tail: f"modelfleet{tail}")
    | REQUIREMENT_TEXT.map(lambda tail: f"modelfleet @ {tail}")
)
def test_any_requirement_is_written_as_a_requirement_on_modelfleet_or_refused(modelfleet, tmp_path_factory, given_text):
    """Generated --requirement values: refused (64, one line, nothing written), or written as a PEP 508
    requirement on modelfleet, with the family's extra, that pip can install from."""
    from packaging.requirements import Requirement

    cwd = tmp_path_factory.mktemp("req")
    done = modelfleet(["new", "acme", "--package=pkg", f"--requirement={given_text}"], cwd=cwd)
    if done.returncode != 0:
        assert done.returncode == 64, done.stderr
        assert "--requirement" in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert not list(cwd.iterdir())
        return
    (written,) = tomllib.loads((cwd / "pkg/pyproject.toml").read_text())["project"]["dependencies"]
    parsed = Requirement(written)
    assert parsed.name == "modelfleet"
    assert "boosted" in parsed.extras
    assert parsed.url is None or scaffold._url_problem(parsed.url) is None


def test_the_requirement_flag_needs_a_package(modelfleet, checkout):
    before = tree(checkout)
    done = modelfleet(["new", "upsell", "--requirement=modelfleet>=0.1"], cwd=checkout)
    assert done.returncode == 64, done.stderr
    assert "--requirement" in done.stderr
    assert "--package" in done.stderr
    assert tree(checkout) == before


# --- one package, many models ---


def test_a_second_model_is_added_to_a_package_new_made(modelfleet, tmp_path):
    """`new basket --family=clustering --package=DIR` into a package `new` made adds the model, its test and entry
    point, and the family's extra; the pyproject keeps every other line (comments included)."""
    assert modelfleet(["new", "acme", "--package=acme-models"], cwd=tmp_path).returncode == 0
    root = tmp_path / "acme-models"
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("[tool.pytest", "# a team's own comment\n[tool.pytest"))
    before_text, before = pyproject.read_text(), tree(root)
    done = modelfleet(["new", "basket", "--family=clustering", "--package=."], cwd=root)  # from inside it
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["created"] == [
        "acme_models/basket/__init__.py",
        "acme_models/basket/model.py",
        "tests/test_basket.py",
    ]
    assert result["changed"] == ["pyproject.toml"]
    assert sorted(tree(root)) == sorted([*before, *result["created"]])
    assert {path: data for path, data in tree(root).items() if path in before and path != "pyproject.toml"} == {
        path: data for path, data in before.items() if path != "pyproject.toml"
    }
    project = tomllib.loads(pyproject.read_text())["project"]
    assert project["entry-points"]["modelfleet.models"] == {
        "acme": "acme_models.acme:Acme",
        "basket": "acme_models.basket:Basket",
    }
    assert project["dependencies"][0].startswith("modelfleet[boosted,clustering]")
    kept = pyproject.read_text().splitlines()
    assert [line for line in before_text.splitlines() if line not in kept] == [before_text.splitlines()[10]]
    assert "# a team's own comment" in kept
    assert issubclass(load_model(root / "acme_models/basket/model.py", "basket"), ClusteringModel)
    assert "conformance.checks(Basket)" in (root / "tests/test_basket.py").read_text()
    third = modelfleet(["new", "upsell", f"--package={root}"], cwd=tmp_path)  # same family: the pyproject's deps stay
    assert third.returncode == 0, third.stderr
    assert tomllib.loads(pyproject.read_text())["project"]["dependencies"] == project["dependencies"]


ADD_REFUSED = {
    "the name is registered there": ("acme", None, 64, "has a model named 'acme' already"),
    "its folder exists": (
        "basket",
        lambda root: (root / "acme_models/basket").mkdir(),
        64,
        "acme_models/basket exists",
    ),
    "its test exists": (
        "basket",
        lambda root: (root / "tests/test_basket.py").write_text("x\n"),
        64,
        "test_basket.py exists",
    ),
    "a pyproject new did not make": (
        "basket",
        lambda root: (root / "pyproject.toml").write_text('[project]\nname = "theirs"\ndependencies = []\n'),
        64,
        "did not make",
    ),
    "two packages in the wheel": (
        "basket",
        lambda root: (root / "pyproject.toml").write_text(
            (root / "pyproject.toml")
            .read_text()
            .replace('packages = ["acme_models"]', 'packages = ["acme_models", "x"]')
        ),
        64,
        "did not make",
    ),
    "no TOML": ("basket", lambda root: (root / "pyproject.toml").write_text("[project\n"), 78, "no valid TOML"),
}


@pytest.mark.parametrize("case", ADD_REFUSED)
def test_adding_to_a_package_is_refused_in_one_line_with_nothing_written(modelfleet, tmp_path, case):
    name, spoil, code, says = ADD_REFUSED[case]
    assert modelfleet(["new", "acme", "--package=acme-models"], cwd=tmp_path).returncode == 0
    root = tmp_path / "acme-models"
    if spoil is not None:
        spoil(root)
    before = tree(tmp_path)
    done = modelfleet(["new", name, "--package=acme-models"], cwd=tmp_path)
    assert done.returncode == code, done.stderr
    assert says in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stdout == ""
    assert tree(tmp_path) == before


@pytest.mark.parametrize("failing", range(4))  # 3 new files, then the pyproject
def test_a_failed_write_while_adding_leaves_the_package_as_it_was(modelfleet, tmp_path, monkeypatch, failing):
    assert modelfleet(["new", "acme", "--package=acme-models"], cwd=tmp_path).returncode == 0
    _fail_write(monkeypatch, failing)
    before = tree(tmp_path)
    done = modelfleet(["new", "basket", "--package=acme-models"], cwd=tmp_path)
    assert done.returncode == 74, done.stderr
    assert tree(tmp_path) == before
    assert not [path for path in tmp_path.rglob("*") if "basket" in path.name]


# --- extras named as packaging names them (PEP 685) ---


def test_a_name_with_underscores_gets_its_extra_as_packaging_writes_it(modelfleet, checkout):
    """`new subs_churn` writes the extra `subs-churn` (what METADATA says), in `all` and tox.ini too; its entry
    point and tox env keep the model's name, and a model made after it goes after it."""
    done = modelfleet(["new", "subs_churn"], cwd=checkout)
    assert done.returncode == 0, done.stderr
    assert "pip install -e '.[subs-churn]'" in json.loads(done.stdout)["next"][0]
    assert modelfleet(["new", "upsell"], cwd=checkout).returncode == 0
    project = tomllib.loads((checkout / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    assert "subs-churn" in extras
    assert "subs_churn" not in extras
    assert list(extras).index("upsell") == list(extras).index("subs-churn") + 1
    assert extras["all"] == ["modelfleet[churn,ltv,segment,offer,subs-churn,upsell]"]
    assert project["entry-points"]["modelfleet.models"]["subs_churn"] == "models.subs_churn:SubsChurn"
    tox = (checkout / "tox.ini").read_text()
    assert "[testenv:subs_churn]\n" in tox
    assert "extras = subs-churn\n" in tox
    again = modelfleet(["new", "subs_churn"], cwd=checkout)
    assert again.returncode == 64
    assert "already" in again.stderr


# --- the id column ---


@pytest.mark.parametrize("family", FAMILIES)
def test_the_generated_class_declares_its_id_column_and_new_says_so(modelfleet, tmp_path, family):
    done = modelfleet(["new", "acme", f"--family={family}", "--package=acme-models"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "acme-models/acme_models/acme/model.py").read_text()
    assert '    id_column = "customer_id"\n' in text
    assert "id_column ('customer_id')" in json.loads(done.stdout)["edit"]
    assert "`id_column`" in (tmp_path / "acme-models/README.md").read_text()


# --- the families ---


def test_every_family_is_offered_and_tested():
    """Each family `new` generates is a choice of --family (its type, USAGE and help), has its extra in
    pyproject.toml (what the new model's extra copies) and is tested here (BASES)."""
    import typing

    offered = typing.get_args(typing.get_type_hints(scaffold.new)["family"])
    assert sorted(offered) == sorted(scaffold.FAMILIES) == sorted(BASES)
    assert f"--family={'|'.join(offered)}" in scaffold.USAGE
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert [family for family in offered if family not in extras] == []
    assert [family for family in offered if f" {family} (" not in scaffold.new.__doc__] == []


def test_a_generated_multiclass_model_declares_its_classes_and_learns_them(modelfleet, tmp_path):
    """--family=multiclass: a multiclass boosted-trees model of text classes, all present in its sample, whose
    scored rows get the likeliest class and one probability column per class; trained, it does what its
    generated test asserts; and `new` says the classes are the user's to replace too."""
    pytest.importorskip("lightgbm", reason="it trains the generated model: runs where a LightGBM model is (churn)")
    import numpy as np

    done = modelfleet(["new", "acme", "--family=multiclass", "--package=acme-models"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "classes" in json.loads(done.stdout)["edit"]
    cls = load_model(tmp_path / "acme-models/acme_models/acme/model.py", "acme")
    assert cls.objective == "multiclass"
    assert len(cls.classes) >= 3
    assert all(isinstance(value, str) for value in cls.classes)
    model = cls(store=str(tmp_path / "store"))
    assert [column for column, _ in model._outputs()] == [cls.prediction, *(f"probability_{c}" for c in cls.classes)]
    sample = model._make_sample(1000, np.random.default_rng(0))
    assert set(sample[cls.label]) == set(cls.classes)
    metrics = model.train()["metrics"]
    assert eval(scaffold.FAMILIES["multiclass"].learns, {"metrics": metrics})
    assert scaffold.FAMILIES["multiclass"].learns in (tmp_path / "acme-models/tests/test_acme.py").read_text()


def test_a_url_requirement_lets_hatchling_build_the_package(modelfleet, tmp_path):
    """hatchling refuses a direct reference unless [tool.hatch.metadata] allows it: a new package allows it, and a
    package made before that gets it when a model added to it brings a URL requirement."""
    assert modelfleet(["new", "acme", "--package=acme-models"], cwd=tmp_path).returncode == 0
    pyproject = tmp_path / "acme-models/pyproject.toml"
    assert tomllib.loads(pyproject.read_text())["tool"]["hatch"]["metadata"] == {"allow-direct-references": True}
    older = [line for line in pyproject.read_text().splitlines(keepends=True) if "hatch.metadata" not in line]
    pyproject.write_text("".join(line for line in older if "allow-direct-references" not in line))
    url = "modelfleet @ git+https://git.example.com/ml/modelfleet.git@v0.2"
    done = modelfleet(["new", "basket", "--package=acme-models", f"--requirement={url}"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    document = tomllib.loads(pyproject.read_text())
    assert document["tool"]["hatch"]["metadata"] == {"allow-direct-references": True}
    assert document["project"]["dependencies"] == [url.replace("modelfleet @", "modelfleet[boosted] @")]
