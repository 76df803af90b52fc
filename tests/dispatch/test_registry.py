"""The registry: a model's name is its registered name, and only one distribution may register a name.

Each test builds fake distributions on disk (``<dist>-1.0.dist-info`` with ``entry_points.txt`` and
``METADATA``, next to a tiny module defining a model class) and puts their folder first on ``sys.path``.
"""

import json
import logging
import signal
import subprocess
import sys
import tempfile
import textwrap
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch import cli, registry
from shared.errors import ConfigError, UsageError
from shared.families.model import Model

MODEL_MODULE = '''
from dataclasses import dataclass

from shared.families.model import Model


@dataclass(frozen=True)
class Params:
    seed: int = 0


class {cls}(Model):
    """{cls}: a fake model of the registry tests."""

{body}
    Params = Params
    estimator_params = {{"seed": "random_state"}}  # each field maps to the estimator (shared.families.model)


def not_a_class():
    """A function, where a model class belongs."""


class Nameless:
    """A class that is not a model: it has no name."""


class Duck:
    """Duck: a registered class that is no Model, with a command of its own."""

    name = "duck"
    commands = ("hello",)

    def hello(self, *, x: int = 1):
        """Say hello.

        Args:
            x: How many times.
        """
        return {{"model": "duck", "x": x}}
'''


def clear_caches() -> None:
    registry._installed.cache_clear()
    registry._entry_points.cache_clear()


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A folder first on sys.path for fake distributions; the registry caches are cleared around the test."""
    folder = tmp_path / "site"
    folder.mkdir()
    before = set(sys.modules)
    clear_caches()
    monkeypatch.syspath_prepend(str(folder))
    yield folder
    clear_caches()
    for name in set(sys.modules) - before:
        if name.startswith("fake_"):
            del sys.modules[name]


def add_dist(
    folder: Path,
    dist: str,
    entries: dict[str, str],
    *,
    cls: str = "Upsell",
    name: str | None = None,
    requires=(),
    declares: str = "",
) -> str:
    """Write distribution ``dist`` registering ``entries`` (model name -> attribute of its module).

    Its module defines a model class ``cls`` (declaring ``name`` if given, and the class-body lines ``declares``).
    Returns the module's name.
    """
    module = f"fake_{dist}_{uuid.uuid4().hex[:8]}"  # a fresh module each time: sys.modules caches imports
    body = (f"    name = {name!r}\n" if name is not None else "") + declares
    (folder / f"{module}.py").write_text(MODEL_MODULE.format(cls=cls, body=body), encoding="utf-8")
    info = folder / f"{dist}-1.0.dist-info"
    info.mkdir()
    lines = "".join(f"{model} = {module}:{attr}\n" for model, attr in entries.items())
    (info / "entry_points.txt").write_text(f"[console_scripts]\nx = y:z\n\n[{registry.GROUP}]\n{lines}")
    requirements = "".join(f'Requires-Dist: {package}; extra == "{extra}"\n' for package, extra in requires)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n{requirements}\nBody\n")
    return module


def refused(name: str, **kwargs) -> str:
    """Load model ``name``, expecting a ConfigError that exits 78; return its message."""
    message = raised(lambda: registry.load(name, **kwargs))
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("cls", "declared", "registered"),
    [
        ("TelcoChurn", "telco_churn", "telco_churn"),  # a declared name
        ("Upsell", None, "upsell"),  # the lowercased class name
    ],
)
@pytest.mark.parametrize("require", [True, False])
def test_a_class_whose_name_is_its_registered_name_loads(site, cls, declared, registered, require):
    module = add_dist(site, "telco", {registered: cls}, cls=cls, name=declared)
    loaded = registry.load(registered, require=require)
    assert loaded.__name__ == cls
    assert loaded.__module__ == module
    assert loaded.name == registered
    assert registered in registry.names()
    assert registry.root([registered]) == {registered: loaded}


@pytest.mark.parametrize(
    ("cls", "declared", "registered", "actual"),
    [
        ("TelcoChurn", "churn2", "telco_churn", "churn2"),  # declares another name
        ("TelcoChurn", None, "telco_churn", "telcochurn"),  # its lowercased class name differs
        ("Upsell", None, "Upsell", "upsell"),  # names are case-sensitive
    ],
)
@pytest.mark.parametrize("require", [True, False])
def test_a_class_whose_name_differs_from_its_registration_exits_78(site, cls, declared, registered, actual, require):
    module = add_dist(site, "telco", {registered: cls}, cls=cls, name=declared)
    message = refused(registered, require=require)
    assert message == (
        f"model class '{module}:{cls}' has name {actual!r} but distribution 'telco' registers it as "
        f'{registered!r}; set name = "{registered}" in the class, or register it as {actual!r}'
    )


def test_the_name_is_checked_even_when_the_extra_is_missing_and_not_required(site):
    """Help and argument checks load without the extra (require=False): the name is still checked."""
    add_dist(site, "telco", {"telco_churn": "TelcoChurn"}, cls="TelcoChurn", requires=[("nosuchlib", "telco_churn")])
    assert "is not installed in this environment (missing: nosuchlib)" in refused("telco_churn")
    assert "has name 'telcochurn' but distribution 'telco' registers it as 'telco_churn'" in refused(
        "telco_churn", require=False
    )


@pytest.mark.parametrize(
    ("attr", "why"),
    [
        ("not_a_class", "it is a function, not a class"),
        ("Nameless", "the class has no 'name' attribute"),
        ("NoSuchClass", "has no attribute 'NoSuchClass'"),
        ("Upsell.NoSuchClass", ".Upsell' has no attribute 'NoSuchClass'"),
        ("Upsell.name", "it is a str, not a class"),
        ("", "it is a module, not a class"),
    ],
)
def test_an_entry_point_that_names_no_model_class_exits_78(site, attr, why):
    add_dist(site, "telco", {"upsell": attr})
    message = refused("upsell", require=False)
    assert "entry point 'upsell' = 'fake_telco_" in message
    assert "of distribution 'telco' does not name a model class: " in message
    assert why in message


def raised(call) -> str:
    """Call ``call``, expecting a ConfigError that exits 78; return its message."""
    with pytest.raises(ConfigError) as caught:
        call()
    assert caught.value.exit_code == 78
    return str(caught.value)


@pytest.mark.parametrize(
    "use",
    [
        lambda: raised(lambda: registry.load("upsell")),
        lambda: raised(lambda: registry.load("upsell", require=False)),
        lambda: raised(lambda: registry._entry("upsell")),
        lambda: raised(lambda: registry.missing_requirements("upsell")),
        lambda: registry.root(["upsell"])["upsell"].__doc__,  # the stand-in's help line carries the reason
    ],
    ids=["load", "load-not-required", "entry", "missing_requirements", "root"],
)
def test_two_distributions_registering_one_name_are_refused_naming_both(site, use):
    first = add_dist(site, "alpha", {"upsell": "Upsell", "only_alpha": "Upsell"})
    second = add_dist(site, "beta", {"upsell": "Upsell"})
    expected = (
        f"model 'upsell' is registered by 2 distributions in the 'modelfleet.models' group: "
        f"'alpha' ({first}:Upsell) and 'beta' ({second}:Upsell); uninstall one of them, or rename one entry point"
    )
    assert expected in use()
    assert registry.names().count("upsell") == 1
    assert "only_alpha" in registry.names()  # the distributions' other registrations are unaffected


def test_one_distribution_found_twice_on_sys_path_is_no_conflict(site, tmp_path, monkeypatch):
    """The first copy on sys.path wins, as for imports."""
    later = tmp_path / "later"
    later.mkdir()
    add_dist(later, "telco", {"upsell": "Upsell"}, name="other")  # would be refused, but is shadowed
    monkeypatch.setattr(sys, "path", [*sys.path, str(later)])
    module = add_dist(site, "telco", {"upsell": "Upsell"})
    clear_caches()
    assert registry.load("upsell").__module__ == module
    assert registry.names().count("upsell") == 1


def test_an_unknown_name_is_still_a_usage_error(site):
    add_dist(site, "telco", {"upsell": "Upsell"})
    with pytest.raises(UsageError, match=r"unknown model 'upsel' \(did you mean 'upsell'\?\)"):
        registry.load("upsel")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    declared=st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True),
    registered=st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True),
)
def test_any_name_loads_exactly_when_it_is_the_registered_one(monkeypatch, declared, registered):
    with tempfile.TemporaryDirectory() as folder, monkeypatch.context() as patch:
        patch.syspath_prepend(folder)
        clear_caches()
        try:
            add_dist(Path(folder), "telco", {registered: "Upsell"}, name=declared)
            if declared == registered:
                assert registry.load(registered).name == registered
            else:
                message = refused(registered)
                assert f"has name {declared!r} but distribution 'telco' registers it as {registered!r}" in message
                assert f'set name = "{registered}" in the class, or register it as {declared!r}' in message
        finally:
            clear_caches()


@pytest.fixture
def in_process(monkeypatch):
    """Let ``cli.main`` run in this process: undo its logging set-up and SIGTERM handler afterwards."""
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)
    monkeypatch.setenv("PAGER", "cat")
    saved = signal.getsignal(signal.SIGTERM)
    yield cli.main
    signal.signal(signal.SIGTERM, saved)


def mismatched(site: Path) -> str:
    add_dist(site, "telco", {"telco_churn": "TelcoChurn"}, cls="TelcoChurn")
    return "has name 'telcochurn' but distribution 'telco' registers it as 'telco_churn'"


def conflicting(site: Path) -> str:
    add_dist(site, "alpha", {"telco_churn": "Upsell"}, name="telco_churn")
    add_dist(site, "beta", {"telco_churn": "Upsell"}, name="telco_churn")
    return "model 'telco_churn' is registered by 2 distributions"


@pytest.mark.parametrize("broken", [mismatched, conflicting])
def test_top_level_help_shows_a_broken_registration_as_unavailable(site, in_process, capsys, broken):
    reason = broken(site)
    add_dist(site, "good", {"upsell": "Upsell"})
    assert in_process(["--help"]) == 0
    captured = capsys.readouterr()
    shown = " ".join((captured.out + captured.err).split())  # Fire shows help on stderr, and may wrap lines
    assert "telco_churn" in shown
    assert "[unavailable here]" in shown
    assert reason in shown
    assert "Upsell: a fake model of the registry tests." in shown


@pytest.mark.parametrize("broken", [mismatched, conflicting])
@pytest.mark.parametrize("args", [["telco_churn", "--help"], ["telco_churn", "train"]])
def test_using_a_broken_registration_exits_78_in_one_line(site, in_process, capsys, broken, args):
    reason = broken(site)
    assert in_process(args) == 78
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [captured.err.strip()]
    assert captured.err.startswith("modelfleet: error: ")
    assert reason in captured.err


def test_every_installed_model_is_registered_under_its_own_name():
    """The real registrations (this repository's pyproject.toml) pass the check."""
    clear_caches()
    for name in registry.names():
        assert registry.load(name, require=False).name == name


def test_the_registry_imports_nothing_heavy():
    """``modelfleet --help`` stays fast: importing the registry pulls in no data library."""
    code = textwrap.dedent(
        """
        import sys
        import dispatch.registry
        heavy = sorted({"pandas", "numpy", "lightgbm", "sklearn", "importlib.metadata"} & set(sys.modules))
        assert not heavy, heavy
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


TOY_COMMAND = '''
from typing import Annotated, Any

from shared.contract.params import Bounds


def explain(model, *, depth: Annotated[int, Bounds(ge=1, le=9)] = 3) -> dict[str, Any]:
    """Explain the model at the terminal, to a given depth.

    Args:
        depth: How many levels of detail to show.
    """
    return {"model": model.name, "depth": depth, "dry_run": model._dry_run}
'''


def test_a_toy_command_registered_by_one_line_is_everywhere_a_command_is(site, modelfleet, tmp_path, monkeypatch):
    """A model of another distribution adds a command: one module, one registration line in its class. It is then
    in help, the manifest, ``dispatch.argv``, ``describe`` and the command line, with no other edit."""
    from dispatch import commandline, manifest
    from shared.errors import BadArgument

    (site / "fake_toy_commands.py").write_text(TOY_COMMAND, encoding="utf-8")
    registration = '    command_modules = (*Model.command_modules, ("explain", "fake_toy_commands"))\n'
    add_dist(site, "toyco", {"toy": "Toy"}, cls="Toy", declares=registration)
    toy = registry.load("toy")
    assert toy.commands == (*Model.commands, "explain")

    listed = modelfleet(["toy", "--help"], tmp_path)
    assert "\n     explain\n" in listed.stdout
    assert "Explain the model at the terminal" in listed.stdout
    helped = modelfleet(["toy", "explain", "--help"], tmp_path)
    assert "--depth=DEPTH" in helped.stdout
    assert "How many levels of detail to show. [int; >= 1 and <= 9; env MODELFLEET_TOY_DEPTH]" in helped.stdout

    entry = manifest.build()["models"]["toy"]["commands"]["explain"]
    assert entry["summary"] == "Explain the model at the terminal, to a given depth."
    assert entry["parameters"]["depth"]["default"] == 3
    assert {"store", "config", "dry_run", "depth"} == set(entry["parameters"])

    assert commandline.argv("toy", "explain", depth=5) == ["toy", "explain", "--depth=5"]
    with pytest.raises(BadArgument, match="--depth must be int >= 1 and <= 9"):
        commandline.argv("toy", "explain", depth=0)

    monkeypatch.setenv("MODELFLEET_TOY_EXPLAIN_DEPTH", "7")
    described = toy(store=str(tmp_path / "store")).describe()["commands"]["explain"]
    assert described["parameters"]["depth"]["value"] == 7
    assert described["parameters"]["depth"]["source"] == "env"
    ran = modelfleet(["toy", "explain", "--depth=4", "--dry_run"], tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == {"model": "toy", "depth": 4, "dry_run": True}
    assert toy().explain() == {"model": "toy", "depth": 7, "dry_run": False}


def test_a_registered_class_that_is_no_model_still_runs_and_keeps_the_manifest_whole(site, modelfleet, tmp_path):
    """A plain class with a name and commands (no Model) runs its command, and the manifest lists it with the
    others: one odd registration must not take the manifest down."""
    add_dist(site, "ducks", {"duck": "Duck"})
    ran = modelfleet(["duck", "hello", "--x=2"], tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == {"model": "duck", "x": 2}
    listed = modelfleet(["manifest"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    models = json.loads(listed.stdout)["models"]
    assert models["duck"]["commands"]["hello"]["parameters"]["x"]["default"] == 1
    assert "churn" in models


@pytest.mark.parametrize("written", ["subs-churn", "subs_churn", "Subs.Churn"])
def test_an_extra_is_matched_as_packaging_names_it_and_refused_before_any_data_is_read(
    site, modelfleet, tmp_path, monkeypatch, written
):
    """Model `subs_churn`'s extra, however METADATA spells it (new pips write `extra == "subs-churn"`, PEP 685),
    is its extra: with a requirement of it missing, `train` exits 78 with the install hint, and its --data is
    never opened (a file that fails if read, and a spy on every reader)."""
    from shared.tables import data, stream

    add_dist(
        site,
        "acme_models",
        {"subs_churn": "SubsChurn"},
        cls="SubsChurn",
        name="subs_churn",
        requires=[("numpy", written), ("No_Such.Lib", written)],
    )
    assert registry.missing_requirements("subs_churn") == ["No_Such.Lib"]

    def spy(*args, **kwargs):
        raise AssertionError("the input was opened before the missing extra was refused")

    monkeypatch.setattr(stream.Input, "open", spy)
    monkeypatch.setattr(data, "read_columns", spy)
    unreadable = tmp_path / "rows.parquet"
    unreadable.write_bytes(b"not parquet at all")
    done = modelfleet(["subs_churn", "train", f"--data={unreadable}", f"--store={tmp_path / 'store'}"], tmp_path)
    assert done.returncode == 78, done.stderr
    assert "missing: No_Such.Lib" in done.stderr
    assert "install it with: pip install 'acme-models[subs-churn]'" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / "store").exists()


def test_names_are_normalised_as_packaging_does():
    """PEP 503 / PEP 685: lowercase, and each run of '-', '_' and '.' is one '-'."""
    assert registry.normal("Subs__Churn") == registry.normal("subs.-churn") == "subs-churn"
    assert registry.normal("PyYAML") == "pyyaml"
