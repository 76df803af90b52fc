"""A DAG checked against an image's manifest is checked exactly as against the installed models.

``Catalog.from_manifest`` rebuilds every parameter from the annotation the manifest carries
(shared.contract.annotations); these tests compare its accept/refuse decisions and messages with the installed
path's on generated values for every parameter of every command, with a model that exists only in the manifest
(``subs_churn``: churn, renamed).
"""

import datetime as dt
import json
import subprocess
import sys
import typing
from pathlib import Path
from typing import Annotated, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch import airflow, registry
from dispatch.commandline import MANIFEST_FORMAT, Catalog, argv, parse, specs_for
from dispatch.manifest import build
from shared import __version__
from shared.contract import annotations
from shared.contract.params import Bounds, Check, Shown, Spec
from shared.errors import BadArgument, ConfigError, UsageError
from shared.storage.versions import ALIAS, VERSION_ID

SHIPPED = Path(__file__).parents[2] / "examples" / "dags" / "modelfleet-manifest.json"
REGENERATE = (
    "regenerate it with the models' code as it is now, every model installed (the image's MODELS=all): "
    "pip install '.[all]' && modelfleet manifest | python -m json.tool --indent 1 > "
    "examples/dags/modelfleet-manifest.json"
)
CALLS = [(model, command) for model in registry.names() for command in registry.load(model, require=False).commands]
OWN = "subs_churn"  # a model only the manifest has


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build()


@pytest.fixture(scope="module")
def own(document, tmp_path_factory) -> Catalog:
    """An image's manifest whose models are churn renamed ``subs_churn`` and every other model as they are."""
    renamed = json.loads(json.dumps(document))
    renamed["models"] = {OWN if name == "churn" else name: model for name, model in renamed["models"].items()}
    for model in renamed["models"].values():
        model["available"] = True  # as in the image, which has every model
    path = tmp_path_factory.mktemp("image") / "manifest.json"
    path.write_text(json.dumps(renamed))
    return Catalog.from_manifest(path)


def test_the_example_dags_manifest_is_what_modelfleet_manifest_prints_now(document):
    """examples/dags/modelfleet-manifest.json can never drift from the code (but for which models this env has)."""
    shipped = json.loads(SHIPPED.read_text())
    assert all(model["available"] for model in shipped["models"].values()), f"not every model is in it; {REGENERATE}"
    assert _code_only(shipped) == _code_only(document), (
        f"{SHIPPED} is not what modelfleet manifest prints; {REGENERATE}"
    )


def _code_only(document: dict[str, Any]) -> dict[str, Any]:
    """The manifest without what depends on the environment that wrote it: which models' extras it has."""
    copy = json.loads(json.dumps(document))
    for model in copy["models"].values():
        model.pop("available")
    return copy


def test_every_parameter_comes_back_equal_from_the_manifest(document, own):
    """Each rebuilt annotation EQUALS the code's: the same type, bounds, choices, markers and Check functions."""
    for model, command in CALLS:
        specs = specs_for(registry.load(model, require=False), command)
        carried = document["models"][model]["commands"][command]["parameters"]
        rebuilt = own.specs(OWN if model == "churn" else model, command)
        assert list(rebuilt) == list(specs)
        for name, spec in specs.items():
            assert annotations.decode(carried[name]["annotation"]) == spec.annotation, (model, command, name)
            assert rebuilt[name].annotation == spec.annotation
            assert (rebuilt[name].required, rebuilt[name].flag, rebuilt[name].help) == (
                spec.required,
                spec.flag,
                spec.help,
            )


def test_a_check_travels_by_its_name_in_the_core():
    shard = build()["models"]["churn"]["commands"]["score"]["parameters"]["shard"]["annotation"]
    assert shard == {
        "kind": "union",
        "of": [{"kind": "str", "meta": [{"shown": "K/N"}, {"check": "shared.tables.shards:check"}]}, {"kind": "none"}],
    }


def _outside_check(value: str) -> str:
    return value


UNCARRIED = {
    "a lambda": (Annotated[str, Check(lambda v: v)], "has no importable name"),
    "a check outside the core": (Annotated[str, Check(_outside_check)], "which is not in modelfleet's core"),
    "a marker of pydantic's": (Annotated[int, "a note"], "the marker 'a note'"),
    "a type it has no form for": (dict[str, int], "the type dict[str, int]"),
    "a tuple": (tuple[str, ...], "the type tuple[str, ...]"),
    "a Literal of None": (typing.Literal["a", None], "a Literal of"),
}


@pytest.mark.parametrize(("annotation", "why"), UNCARRIED.values(), ids=UNCARRIED.keys())
def test_an_annotation_the_manifest_cannot_carry_is_a_config_error_naming_the_parameter(annotation, why):
    with pytest.raises(ConfigError, match=r"--odd of 'churn train': .*cannot be carried by the manifest") as caught:
        annotations.carry(annotation, "--odd of 'churn train'")
    assert why in str(caught.value)


def test_the_round_trip_assertion_fails_when_the_manifest_would_be_looser(monkeypatch):
    """A decoder that dropped a bound would make the manifest looser: building it refuses, naming the parameter."""
    real = annotations.decode

    def loose(data):
        if "meta" in data:
            meta = [marker for marker in data["meta"] if "bounds" not in marker]
            data = {**data, "meta": meta} if meta else {key: v for key, v in data.items() if key != "meta"}
        return real(data)

    monkeypatch.setattr(annotations, "decode", loose)
    with pytest.raises(ConfigError, match=r"--\w+ of 'churn \w+': the manifest would carry .*, which is not the same"):
        build()


def test_building_the_manifest_refuses_a_parameter_it_cannot_carry(monkeypatch):
    from dispatch import manifest

    def with_odd(cls, command):
        return {**specs_for(cls, command), "odd": Spec("odd", Annotated[str, Check(_outside_check)], "x")}

    monkeypatch.setattr(manifest, "specs_for", with_odd)
    with pytest.raises(ConfigError, match=r"--odd of 'churn \w+': the check .*_outside_check, which is not in"):
        manifest.build()


def _junk() -> st.SearchStrategy:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**12), 10**12),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=12),
        st.dates(),
        st.datetimes(),
        st.lists(st.text(max_size=5), max_size=3),
    )


def _fitting(spec: Spec) -> st.SearchStrategy:
    """Values that may well fit: within the bounds, of the choices, shaped like a version id."""
    bounds = spec.constraints()
    if spec.choices():
        return st.sampled_from(spec.choices())
    if spec.base is int:
        return st.integers(int(bounds.get("ge", bounds.get("gt", -100))) - 2, int(bounds.get("le", 10**6)) + 2)
    if spec.base is float:
        return st.floats(bounds.get("ge", bounds.get("gt", -100)) - 1, bounds.get("le", bounds.get("lt", 1e6)) + 1)
    if spec.base is dt.date:
        return st.dates().map(lambda d: d.isoformat())
    return st.from_regex(VERSION_ID, fullmatch=True) | st.from_regex(ALIAS, fullmatch=True) | st.just("3/4")


def _outcome(call: Any, *args: Any, **kwargs: Any) -> tuple[str, Any]:
    try:
        return "ok", call(*args, **kwargs)
    except (UsageError, BadArgument, ConfigError) as exc:
        return type(exc).__name__, str(exc)


def _same(model: str, outcome: tuple[str, Any]) -> tuple[str, Any]:
    """An outcome with the manifest-only model's name read as churn's, to compare with the installed path."""
    text = json.dumps(outcome, default=repr)
    return json.loads(text.replace(OWN, model) if model == "churn" else text)


@pytest.mark.parametrize(("model", "command"), CALLS)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_manifest_accepts_and_refuses_every_value_as_the_installed_models_do(own, model, command, data):
    """For generated values of every parameter (fitting or not), argv and parse give the same result or the same
    error message whether the call is checked against the installed model or the manifest's ``subs_churn``."""
    specs = specs_for(registry.load(model, require=False), command)
    name = OWN if model == "churn" else model
    values = {n: _fitting(s) | _junk() for n, s in specs.items()}
    params = data.draw(st.fixed_dictionaries({}, optional=values))
    params |= data.draw(
        st.dictionaries(st.sampled_from(["n_estimatorz", "api_key", "shard", "x"]), _junk(), max_size=1)
    )
    installed = _outcome(argv, model, command, **params)
    manifest = _outcome(own.argv, name, command, **params)
    assert _same(model, manifest) == _same(model, installed)
    given = data.draw(st.dictionaries(st.sampled_from(sorted(specs)), st.text(max_size=8), max_size=3))
    tokens = [f"--{key}={value}" for key, value in given.items()]
    odd = ["--dry_run", "--nodry_run", "--n_estimators", "-x", "--", "7"]  # bare flags, spaced values, strays
    tokens += data.draw(st.lists(st.sampled_from(odd), max_size=2))
    installed = _outcome(lambda: parse([model, command, *tokens]).values)
    manifest = _outcome(lambda: own.parse([name, command, *tokens]).values)
    assert _same(model, manifest) == _same(model, installed)


def test_a_model_only_the_manifest_has_takes_valid_calls_and_refuses_with_todays_messages(own):
    args = own.argv(OWN, "train", n_estimators=300, run_id="007", as_of=dt.date(2024, 10, 10), dry_run=True)
    assert args == [OWN, "train", "--n_estimators=300", "--run_id=007", "--as_of=2024-10-10", "--dry_run"]
    assert own.parse(args).values["run_id"] == "007"
    wrong = {
        ("subs_chrun", "train", "n_estimators"): "unknown model 'subs_chrun' (did you mean 'subs_churn'?)",
        (OWN, "fit", "n_estimators"): "unknown command for 'subs_churn': 'fit'",
        (OWN, "train", "n_estimatorz"): "unknown flag for 'subs_churn train': '--n_estimatorz' (did you mean",
    }
    for (model, command, flag), message in wrong.items():
        with pytest.raises(UsageError) as caught:
            own.argv(model, command, **{flag: 3})
        assert message in str(caught.value)
    with pytest.raises(BadArgument, match="--shard must be K/N with 0 <= K < N"):
        own.argv(OWN, "score", shard="4/4")
    with pytest.raises(BadArgument, match="--n_estimators must be int >= 1 and <= 100000"):
        own.argv(OWN, "train", n_estimators=0)


def _write(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "manifest.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def _mangled(**changes: Any) -> dict[str, Any]:
    return {**json.loads(SHIPPED.read_text()), **changes}


BROKEN = {
    "missing": (None, "cannot be read (No such file or directory)"),
    "not JSON": ("{'models': ", "is not valid JSON"),
    "no manifest": ({"models": []}, "is no modelfleet manifest (it has no 'models')"),
    "another version": (_mangled(modelfleet="0.0.1"), f"written by modelfleet 0.0.1 (format {MANIFEST_FORMAT}), but"),
    "another format": (_mangled(format=MANIFEST_FORMAT + 1), f"(format {MANIFEST_FORMAT + 1}), but this environment"),
    "no format": (_mangled(format=None), "(format None), but this environment has modelfleet"),
}


@pytest.mark.parametrize(("document", "message"), BROKEN.values(), ids=BROKEN.keys())
def test_a_missing_corrupt_or_foreign_manifest_is_a_one_line_config_error_naming_its_path(tmp_path, document, message):
    path = tmp_path / "manifest.json" if document is None else _write(tmp_path, document)
    with pytest.raises(ConfigError) as caught:
        Catalog.from_manifest(path).argv("churn", "train")
    text = str(caught.value)
    assert message in text
    assert f"the manifest {path} " in text
    assert f"modelfleet manifest > {path}" in text
    assert "\n" not in text
    assert caught.value.exit_code == 78


def test_a_manifest_carrying_a_check_this_modelfleet_lacks_is_refused_naming_the_parameter(tmp_path):
    document = json.loads(SHIPPED.read_text())
    shard = document["models"]["churn"]["commands"]["score"]["parameters"]["shard"]
    shard["annotation"]["of"][0]["meta"][1] = {"check": "shared.tables.shards:check_in_a_later_version"}
    path = _write(tmp_path, document)
    with pytest.raises(ConfigError, match=r"--shard of 'churn score' carries the check .*check_in_a_later_version"):
        Catalog.from_manifest(path)
    shard["annotation"]["of"][0]["meta"][1] = {"check": "models.churn:Churn"}  # never an import of a model
    with pytest.raises(ConfigError, match=r"which is not a function of modelfleet's core"):
        Catalog.from_manifest(_write(tmp_path, document))


def test_a_model_the_image_lacks_is_refused_at_parse_time(tmp_path):
    document = json.loads(SHIPPED.read_text())
    document["models"]["ltv"]["available"] = False
    catalog = Catalog.from_manifest(_write(tmp_path, document))
    with pytest.raises(ConfigError, match=r"model 'ltv' is not installed in the image the manifest .* describes"):
        catalog.argv("ltv", "train")
    assert catalog.argv("churn", "train") == ["churn", "train"]


def test_pod_tasks_manifest_comes_from_its_argument_then_the_variable_then_the_installed_models(
    tmp_path, own, monkeypatch
):
    model = {**build()["models"]["churn"], "available": True}  # as the image has it
    own_path = _write(tmp_path, {**json.loads(SHIPPED.read_text()), "models": {OWN: model}})
    monkeypatch.delenv("MODELFLEET_MANIFEST", raising=False)
    with pytest.raises(UsageError, match="unknown model 'subs_churn'"):
        airflow.argv(OWN, "train")  # the installed models: no such model
    monkeypatch.setenv("MODELFLEET_MANIFEST", str(own_path))
    assert airflow.argv(OWN, "train", seed=1) == [OWN, "train", "--seed=1"]
    assert airflow.argv("churn", "train", seed=1, manifest=SHIPPED) == ["churn", "train", "--seed=1"]  # it wins
    monkeypatch.setenv("MODELFLEET_MANIFEST", str(tmp_path / "gone.json"))
    with pytest.raises(ConfigError, match=r"gone\.json cannot be read"):
        airflow.argv("churn", "train")


def test_checking_against_a_manifest_imports_no_model_nor_its_libraries():
    """With ``import models`` made to fail, every command of the shipped manifest is checked, and neither a model
    nor LightGBM nor scikit-learn is ever imported."""
    code = f"""
import importlib.abc, json, sys
class NoModels(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("models", "lightgbm", "sklearn"):
            raise ModuleNotFoundError(name)
sys.meta_path.insert(0, NoModels())
from dispatch.airflow import argv
from dispatch.commandline import Catalog
catalog = Catalog.from_manifest({str(SHIPPED)!r})
for model, entry in json.load(open({str(SHIPPED)!r}))["models"].items():
    for command in entry["commands"]:
        assert catalog.argv(model, command) == [model, command]
print(argv("churn", "score", manifest={str(SHIPPED)!r}, shard="1/4"))
print(sorted(m for m in sys.modules if m.split(".")[0] in ("models", "lightgbm", "sklearn")))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["['churn', 'score', '--shard=1/4']", "[]"]


def test_the_manifest_is_of_this_version_and_format(document):
    assert (document["modelfleet"], document["format"]) == (__version__, MANIFEST_FORMAT)


def test_carried_annotations_keep_their_shape():
    """Optional outside or inside Annotated, metadata order: each comes back as it was (they are not equal)."""
    inside = Annotated[str | None, Shown("x"), Bounds(ge=1)]
    outside = Annotated[str, Shown("x"), Bounds(ge=1)] | None
    assert annotations.decode(annotations.encode(inside)) == inside
    assert annotations.decode(annotations.encode(outside)) == outside
    assert annotations.decode(annotations.encode(inside)) != outside
