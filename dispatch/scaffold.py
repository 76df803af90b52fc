"""``modelfleet new NAME``: a new model that trains, and passes the conformance suite, before any edit.

Inside a modelfleet checkout it adds the model's folder, its tests, its extra and entry point in
``pyproject.toml`` and its tox environment. With ``--package=DIR`` it writes a separate installable package
instead, for a team's own repository. Everything is checked before anything is written, and a failure leaves
nothing behind (see :mod:`dispatch.changes`).
"""

from __future__ import annotations

import keyword
import logging
import os
import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from dispatch import registry
from dispatch.changes import Changes, read_text
from dispatch.commandline import MANIFEST, NEW, split_flag
from shared import __version__
from shared.commands import BUILT_IN
from shared.errors import BadArgument, ConfigError, UsageError

USAGE = "modelfleet new NAME [--family=boosted|multiclass|clustering] [--package=DIR] [--requirement=SPEC] [--dry_run]"
OWN_PACKAGES = frozenset({"models", "shared", "dispatch"})  # this project's top-level packages
TOP_LEVEL = frozenset({NEW, MANIFEST})  # words of the command line that are not models
_NAME = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
# An environment name tox reads as the Python to run it with: tox's PY_FACTORS_RE (tox.tox_env.python.api) for a
# name of one factor and no dot, as a model's name is; "py" too, tox's default environment (the Python tox runs
# on). tests/scaffold/test_tox_names.py checks it against tox's own extract_base_python.
_TOX_PYTHON = re.compile(r"(?:py|pypy|cpython|jython|graalpy|rustpython|ironpython)(?:[2-9][0-9]{0,2}t?d?)?")
_DISTRIBUTION = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")  # a valid project name (PEP 508)
_ALL = re.compile(r"\s*(modelfleet)\s*\[([^\]]*)\](.*)", re.IGNORECASE | re.DOTALL)
_ENV_LIST = re.compile(r"^(env_?list[ \t]*=[ \t]*)([^\n]*?)[ \t]*(#[^\n]*)?$", re.MULTILINE)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Family:
    """What a family's model is generated from: its template, what its generated test asserts it learns, and the
    columns its generated class declares (what `new` tells the user to replace with their table's)."""

    template: str
    learns: str
    columns: str


FAMILIES = {
    "boosted": Family(
        "boosted.py.tmpl",
        'metrics["auc"] > 0.5',  # a constant's AUC: check_learns_its_sample (conformance) sets the margin
        "id_column ('customer_id'), label ('outcome'), numeric, categorical and prediction",
    ),
    "multiclass": Family(
        "multiclass.py.tmpl",
        'metrics["auc_ovr"] > 0.5',  # a constant's one-vs-rest AUC, as for boosted
        "id_column ('customer_id'), label ('chosen_plan') and its classes, numeric, categorical and prediction",
    ),
    "clustering": Family(
        "clustering.py.tmpl", 'metrics["silhouette"] > 0', "id_column ('customer_id'), numeric and categorical"
    ),
}


@dataclass
class Plan:
    """What ``new`` writes (checked beforehand), and the commands to run next."""

    changes: Changes
    next: list[str] = field(default_factory=list)
    model: str = ""  # the generated model's module, relative to the root of ``changes``


def new(
    name: str,
    *,
    family: Literal["boosted", "multiclass", "clustering"] = "boosted",
    package: str | None = None,
    requirement: str | None = None,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Create model NAME: a class with a seeded sample, its tests and its registration; it trains at once.

    Args:
        name: the model's name, as the command line, the store and the registry will know it (e.g. upsell).
        family: boosted (a LightGBM binary classifier; its objective makes it a regressor), multiclass (a LightGBM
            classifier of the classes it declares) or clustering (k-means).
        package: write a separate installable package in this new folder (for your own repository), instead
            of adding the model to the modelfleet checkout you are in; a package folder `new` made gets the
            model added to it.
        requirement: the package's requirement on modelfleet (PEP 508, e.g. 'modelfleet @ git+URL@REV');
            by default what the running modelfleet was installed from. The family's extra is always added.
        dry_run: say what would be written, and write nothing.
    """
    from shared.tables import results

    check_name(name)
    _model(name, family, _values(name, family, "models"))  # its class must not shadow a name of its module
    if requirement is not None and package is None:
        msg = f"--requirement={requirement!r} is the requirement of a package of your own: give it with --package=DIR"
        raise BadArgument(msg)
    if package is not None:
        plan = in_package(name, family, package, requirement)
    else:
        plan = in_checkout(name, family, Path.cwd())
    changes = plan.changes
    written = [changes.root] if changes.fresh else [changes.root / p for p in [*changes.created, *changes.changed]]
    results.refuse_collisions({f"{path}, which the new model writes,": str(path) for path in written})
    result = {
        "model": name,
        "command": NEW,
        "family": family,
        "where": str(changes.root),
        "created": sorted(changes.created),
        "changed": sorted(changes.changed),
        "next": plan.next,
        "edit": f"{changes.root / plan.model}: your table's columns, {FAMILIES[family].columns}",
    }
    if dry_run:
        return {"dry_run": True, **result}
    log.info("writing model %s in %s", name, changes.root)
    changes.apply()
    return result


def shown() -> Any:
    """``new`` as Fire's help shows it: plain types (the choices are in its docstring)."""
    import functools
    import inspect

    from shared.contract.params import display_annotation, signature_specs

    specs = {spec.name: spec for spec in signature_specs(new)}

    @functools.wraps(new)
    def view(*args: Any, **kwargs: Any) -> dict[str, Any]:
        return new(*args, **kwargs)

    signature = inspect.signature(new)
    parameters = [
        p.replace(annotation=display_annotation(specs[p.name]) if p.name in specs else str)
        for p in signature.parameters.values()
    ]
    view.__signature__ = signature.replace(parameters=parameters, return_annotation=inspect.Signature.empty)  # type: ignore[attr-defined]
    return view


def parse(args: list[str]) -> tuple[str, dict[str, Any]]:
    """Parse ``NAME [--flag=value ...]`` (what follows ``new``; NAME may be given as ``--name=NAME``)."""
    from shared.contract.params import Spec, signature_specs

    specs = {"name": Spec("name", str), **{spec.name: spec for spec in signature_specs(new)}}
    values: dict[str, Any] = {}
    for position, token in enumerate(args):
        if position == 0 and not token.startswith("-"):
            values["name"] = token
            continue
        flag, text = split_flag(token, NEW, specs)
        if flag in values:
            msg = f"flag --{flag} given more than once for '{NEW}'; give it once"
            raise UsageError(msg)
        values[flag] = specs[flag].from_text(text)
    if "name" not in values:
        msg = f"missing the new model's NAME; usage: {USAGE}"
        raise UsageError(msg)
    return values.pop("name"), values


def check_name(name: str) -> None:
    """Refuse a model name that cannot be a Python package, a class, an entry point, a tox environment and a store
    folder at once, or that another model's settings would be mistaken for."""
    if not _NAME.fullmatch(name) or len(name) > 40:
        msg = (
            f"model name {name!r} is not usable; a name is lowercase letters and digits, words joined by single "
            "underscores, starting with a letter, at most 40 characters (e.g. upsell or upsell_v2)"
        )
        raise BadArgument(msg)
    cls = class_name(name)
    if keyword.iskeyword(name) or keyword.iskeyword(cls) or name in TOP_LEVEL | OWN_PACKAGES:
        msg = f"model name {name!r} is reserved (a Python keyword, or a word of modelfleet's own); choose another"
        raise BadArgument(msg)
    if _TOX_PYTHON.fullmatch(name):
        msg = (
            f"model name {name!r} is what tox reads as a Python version (tox -e {name} would run its tests with "
            f"that interpreter, not the model's environment); choose another, e.g. {name}_model"
        )
        raise BadArgument(msg)
    for model in registry.names():
        if registry.normal(name) == registry.normal(model):
            dists = " and ".join(repr(dist) for dist in registry.registered_by(model))
            msg = (
                f"a model named {name!r} is registered already (by {dists}); two registrations of one name make "
                "both unusable: choose another name"
            )
            raise BadArgument(msg)
        command = name.removeprefix(f"{model}_") if name.startswith(f"{model}_") else None
        if command in {command for command, _ in BUILT_IN}:
            msg = (
                f"model name {name!r} is model {model!r} and its command {command!r}: the variables "
                f"MODELFLEET_{name.upper()}_* would set both; choose another name"
            )
            raise BadArgument(msg)


def class_name(name: str) -> str:
    """The model's class name: ``upsell_v2`` -> ``UpsellV2``."""
    return "".join(word.capitalize() for word in name.split("_"))


def in_package(name: str, family: str, given: str, requirement: str | None = None) -> Plan:
    """The plan for a separate package in folder ``given``: its pyproject, the model, its tests, a README; or, in a
    package folder ``new`` made, the model added to it."""
    folder = Path(os.path.abspath(os.path.expanduser(given)))  # '..' and '.' resolved, as the shell would
    if os.path.islink(folder):
        folder = Path(os.path.realpath(folder))
    try:
        existing = folder.is_dir() and (folder / "pyproject.toml").exists()
    except OSError as exc:
        raise BadArgument(f"--package={given}: {exc.strerror or exc}") from None
    if existing:  # from inside it too: adding a model is what one does in the package's own folder
        return into_package(name, family, folder, given, requirement)
    cwd = Path.cwd().resolve()
    if folder.resolve() == cwd or folder.resolve() in cwd.parents:
        msg = f"--package={given} is the folder you are in (or holds it); give a new folder, e.g. ../{name}-models"
        raise BadArgument(msg)
    try:
        taken = folder.exists() and (not folder.is_dir() or any(folder.iterdir()))
    except OSError as exc:
        raise BadArgument(f"--package={given}: {exc.strerror or exc}") from None
    if taken:
        what = "a folder that is not empty" if folder.is_dir() else "a file"
        msg = (
            f"--package={folder} is {what} (and no package `modelfleet new` made); give a new (or empty) folder for "
            "the package, or a package folder `new` made to add the model to it; nothing is overwritten"
        )
        raise BadArgument(msg)
    dist = folder.name
    package = re.sub(r"[-.]+", "_", dist).lower()
    if not dist.isascii() or not _DISTRIBUTION.fullmatch(dist) or not package.isidentifier():
        msg = (
            f"--package={given}: its folder name {dist!r} is no project name that gives a Python package; name the "
            "folder with ASCII letters, digits, '-' or '_', starting with a letter and ending with a letter or digit "
            "(e.g. acme-models)"
        )
        raise BadArgument(msg)
    clash = _installed_module(package) if package not in OWN_PACKAGES else "modelfleet's own"
    if keyword.iskeyword(package) or clash:
        msg = (
            f"--package={given}: its import package {package!r} would clash with {clash or 'a Python keyword'}; "
            f"name the folder differently (e.g. {package}_models)"
        )
        raise BadArgument(msg)
    if registry.normal(dist) in registry.distributions():
        msg = (
            f"--package={given}: a distribution named {dist!r} is installed here already; installing the package "
            f"would replace it: name the folder differently (e.g. {dist}-models)"
        )
        raise BadArgument(msg)
    values = _values(name, family, package)
    depends = modelfleet_requirement(family, requirement)
    values.update(dist=dist, requirement=_toml_string(depends), family=family, module=f"{package}.{name}.model")
    changes = Changes(folder, fresh=True)
    changes.created = {
        "pyproject.toml": _render("pyproject.toml.tmpl", values),
        "README.md": _render("README.md.tmpl", values),
        f"{package}/__init__.py": _render("package_init.py.tmpl", values),
        f"{package}/{name}/__init__.py": _render("init.py.tmpl", values),
        f"{package}/{name}/model.py": _model(name, family, values),
        f"tests/test_{name}.py": _render("test_package.py.tmpl", values),
    }
    return Plan(changes, _package_next(folder, name), f"{package}/{name}/model.py")


def into_package(name: str, family: str, folder: Path, given: str, requirement: str | None) -> Plan:
    """The plan that adds model ``name`` to the package in ``folder``, which ``new --package`` made: its module and
    test, its entry point, and the family's extra on the requirement on modelfleet (pyproject.toml keeps its
    comments and layout). BadArgument for a folder of another kind, or a name the package has already."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    pyproject = folder / "pyproject.toml"
    text = read_text(pyproject)
    not_made = (
        f"--package={given} holds a project `modelfleet new` did not make ({pyproject} needs [project] dependencies "
        f"on modelfleet, one package under [tool.hatch.build.targets.wheel], and [project.entry-points."
        f"{registry.GROUP!r}]); add the model there by hand, or give a new folder"
    )
    try:
        doc = tomlkit.parse(text.replace("\r\n", "\n"))
    except TOMLKitError as exc:
        raise ConfigError(f"{pyproject} is no valid TOML: {exc}") from None
    project = doc.get("project", {})
    entry_points = project.get("entry-points", {}).get(registry.GROUP)
    packages = doc.get("tool", {}).get("hatch", {}).get("build", {}).get("targets", {}).get("wheel", {})
    packages = packages.get("packages") if hasattr(packages, "get") else None
    dependencies = project.get("dependencies")
    package = str(packages[0]) if isinstance(packages, list) and len(packages) == 1 else ""
    at = _modelfleet_at(dependencies) if isinstance(dependencies, list) else None
    made = (
        package.isidentifier()
        and (folder / package / "__init__.py").is_file()
        and hasattr(entry_points, "items")
        and all(str(target).startswith(f"{package}.") for _, target in entry_points.items())
        and at is not None
        and isinstance(project.get("name"), str)
    )
    if not made or entry_points is None or dependencies is None or at is None:
        raise BadArgument(not_made)
    taken = [
        str(path)
        for path in (folder / package / name, folder / "tests" / f"test_{name}.py")
        if path.exists() or path.is_symlink()
    ]
    if registry.normal(name) in {registry.normal(key) for key in entry_points} or taken:
        where = f" ({' and '.join(taken)} {'exist' if len(taken) > 1 else 'exists'})" if taken else ""
        msg = f"--package={given} has a model named {name!r} already{where}; choose another name"  # nothing written
        raise BadArgument(msg)
    from packaging.requirements import Requirement

    position, current = at
    if requirement is not None or family not in current.extras:  # the family's extra is added, nothing else changes
        merged = Requirement(modelfleet_requirement(family, requirement) if requirement is not None else str(current))
        merged.extras = {*merged.extras, *current.extras, family}
        dependencies[position] = str(merged)
        if merged.url is not None:
            _allow_direct_references(doc)
    entry_points[name] = f"{package}.{name}:{class_name(name)}"
    values = _values(name, family, package)
    values.update(dist=str(project["name"]), family=family, module=f"{package}.{name}.model")
    changes = Changes(folder)
    changes.created = {
        f"{package}/{name}/__init__.py": _render("init.py.tmpl", values),
        f"{package}/{name}/model.py": _model(name, family, values),
        f"tests/test_{name}.py": _render("test_package.py.tmpl", values),
    }
    changes.changed = {"pyproject.toml": (text, tomlkit.dumps(doc))}
    return Plan(changes, _package_next(folder, name), f"{package}/{name}/model.py")


def _allow_direct_references(doc: Any) -> None:
    """Let hatchling build a package whose requirement is a URL (``[tool.hatch.metadata]``), if it does not yet."""
    import tomlkit

    hatch = doc["tool"]["hatch"]
    if "metadata" not in hatch:
        table = tomlkit.table()
        table.add("allow-direct-references", True)
        table.add(tomlkit.nl())
        hatch.add("metadata", table)
    hatch["metadata"]["allow-direct-references"] = True


def _package_next(folder: Path, name: str) -> list[str]:
    """The commands after ``new --package``: (re)install, which registers the entry points, test, train."""
    quoted = shlex.quote(f"{folder}[test]")
    return [f"pip install -e {quoted}", f"pytest {shlex.quote(str(folder))}", f"modelfleet {name} train"]


def _modelfleet_at(dependencies: list[Any]) -> tuple[int, Any] | None:
    """The position and parsed requirement of the one requirement on modelfleet among ``dependencies``."""
    from packaging.requirements import InvalidRequirement, Requirement

    found = []
    for position, item in enumerate(dependencies):
        try:
            parsed = Requirement(str(item))
        except InvalidRequirement:
            continue
        if registry.normal(parsed.name) == "modelfleet":
            found.append((position, parsed))
    return found[0] if len(found) == 1 else None


def modelfleet_requirement(family: str, given: str | None = None) -> str:
    """A package's requirement on modelfleet, with the family's extra: ``given`` (--requirement), else what the
    running modelfleet was installed from (:func:`installed_from`). BadArgument for a ``given`` that is no PEP 508
    requirement on modelfleet."""
    from packaging.requirements import InvalidRequirement, Requirement

    if given is None:
        found = installed_from()
        try:
            requirement = Requirement(found)
        except InvalidRequirement:
            msg = f"the running modelfleet was installed from {found!r}, which is no PEP 508 requirement; {_GIVE}"
            raise ConfigError(msg) from None
    else:
        try:
            requirement = Requirement(given)
        except InvalidRequirement as exc:
            why = str(exc).strip().splitlines()[0] if str(exc).strip() else "unparsable"
            msg = (
                f"--requirement={given!r} is no PEP 508 requirement ({why}); give e.g. "
                "'modelfleet @ git+https://host/modelfleet.git@v0.1.0' or 'modelfleet>=0.1'"
            )
            raise BadArgument(msg) from None
        if requirement.url is not None and (problem := _url_problem(requirement.url)):
            msg = f"--requirement={given!r}: {problem}; give e.g. 'modelfleet @ git+https://host/modelfleet.git@v0.1.0'"
            raise BadArgument(msg)
        if registry.normal(requirement.name) != "modelfleet":
            msg = (
                f"--requirement={given!r} requires {requirement.name!r}, not modelfleet; give a requirement on "
                "modelfleet, e.g. 'modelfleet @ file:///path/to/modelfleet-0.1.0-py3-none-any.whl'"
            )
            raise BadArgument(msg)
    requirement.name = "modelfleet"
    requirement.extras = {*requirement.extras, family}
    return str(requirement)


def installed_from(dist_info: str | None = None) -> str:
    """The requirement that installs the running modelfleet again, from its PEP 610 ``direct_url.json`` (in
    ``dist_info``, by default the installed modelfleet's dist-info folder): a VCS URL at the commit it was
    installed at (``modelfleet @ git+URL@COMMIT``), a local folder or an archive (``modelfleet @ file:///...``);
    no ``direct_url.json`` (installed from an index, or not installed) is ``modelfleet>=VERSION``. ConfigError
    if the file is unreadable or no PEP 610 document (then --requirement says what to depend on)."""
    import json

    folder = dist_info if dist_info is not None else registry.dist_info("modelfleet")
    by_version = f"modelfleet>={__version__}"
    if folder is None:
        return by_version
    path = os.path.join(folder, "direct_url.json")
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return by_version
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}; {_GIVE}") from None
    try:
        found = json.loads(text)
        url = found["url"]
        vcs = found.get("vcs_info")
        if not isinstance(url, str) or any(c.isspace() for c in url):
            raise ValueError(f"its url {url!r} is no URL pip can install from")
        if problem := _url_problem(url):
            raise ValueError(problem)
        if vcs is not None:
            kind, commit = vcs["vcs"], vcs.get("commit_id") or vcs.get("requested_revision")
            url = f"{url if url.startswith(f'{kind}+') else f'{kind}+{url}'}{f'@{commit}' if commit else ''}"
        elif "archive_info" not in found and "dir_info" not in found:
            raise ValueError("it has none of vcs_info, archive_info, dir_info")
        if found.get("subdirectory"):
            url = f"{url}#subdirectory={found['subdirectory']}"
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path} is no PEP 610 direct URL document ({exc}); {_GIVE}") from None
    return f"modelfleet @ {url}"


_SCHEMES = re.compile(r"(?:(?:git|hg|svn|bzr)\+)?(?:https?|file|ssh|git)|(?:git|hg|svn|bzr)\+[a-z]+")


def _url_problem(url: str) -> str | None:
    """Why pip cannot install from ``url`` (a direct reference of PEP 508 / PEP 440), or None."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
    except ValueError as exc:
        return f"its URL {url!r} is malformed ({exc})"
    if not _SCHEMES.fullmatch(parts.scheme.lower()):
        return f"its URL {url!r} has no scheme pip installs from (https://, file://, git+https://, git+ssh://, ...)"
    if not (parts.netloc or parts.path.strip("/")):
        return f"its URL {url!r} names no host or file"
    return None


_GIVE = "give the package's requirement on modelfleet with --requirement=SPEC"


def _toml_string(text: str) -> str:
    """``text`` as a TOML basic string (JSON's escapes are TOML's)."""
    import json

    return json.dumps(text)


def in_checkout(name: str, family: str, start: Path) -> Plan:
    """The plan inside the modelfleet checkout around ``start``: model folder, tests, extra, entry point, tox."""
    import tomlkit

    root = checkout(start)
    for taken in (f"models/{name}", f"tests/models/{name}"):
        if (root / taken).exists():
            msg = f"{root / taken} exists already; choose another name, or remove it first"
            raise BadArgument(msg)
    pyproject_text, tox_text = read_text(root / "pyproject.toml"), read_text(root / "tox.ini")
    doc = tomlkit.parse(pyproject_text.replace("\r\n", "\n"))
    project = doc.get("project", {})
    extras = project.get("optional-dependencies")
    entry_points = project.get("entry-points", {}).get(registry.GROUP)
    if extras is None or family not in extras or entry_points is None:
        msg = (
            f"{root / 'pyproject.toml'} needs the extra {family!r} (the family's libraries, which the new model's "
            f"extra copies) and the [project.entry-points.{registry.GROUP!r}] table; restore them from modelfleet"
        )
        raise ConfigError(msg)
    if registry.normal(name) in {registry.normal(key) for key in [*extras, *entry_points]}:
        msg = f"pyproject.toml has an extra or entry point named {name!r} already; choose another name"
        raise BadArgument(msg)
    extra = registry.normal(name)  # as packaging writes it in METADATA (PEP 685): `subs_churn` is `subs-churn`
    if "all" in extras:
        _add_to_all(extras["all"], extra)
    spelled = {registry.normal(key): key for key in extras}
    models = [spelled[registry.normal(model)] for model in entry_points if registry.normal(model) in spelled]
    requires = tomlkit.array()
    requires.extend(str(item) for item in extras[family])
    _insert_after(extras, models[-1] if models else None, extra, requires)
    entry_points[name] = f"models.{name}:{class_name(name)}"
    values = _values(name, family, "models")
    values["module"] = f"models.{name}.model"
    changes = Changes(root)
    changes.created = {
        f"models/{name}/__init__.py": _render("init.py.tmpl", values),
        f"models/{name}/model.py": _model(name, family, values),
        f"tests/models/{name}/test_{name}.py": _render("test_model.py.tmpl", values),
    }
    changes.changed = {
        "pyproject.toml": (pyproject_text, tomlkit.dumps(doc)),
        "tox.ini": (tox_text, with_tox_env(tox_text.replace("\r\n", "\n"), name, after=list(entry_points))),
    }
    at = shlex.quote(str(root))
    next_steps = [f"cd {at} && pip install -e '.[{extra}]'", f"modelfleet {name} train", f"tox -e {name}"]
    return Plan(changes, next_steps, f"models/{name}/model.py")


def checkout(start: Path) -> Path:
    """The modelfleet checkout that holds ``start``: the nearest folder with its pyproject.toml and models/."""
    import tomllib

    for folder in (start.absolute(), *start.absolute().parents):
        if not (folder / "pyproject.toml").is_file():
            continue
        looks_like = (folder / "models").is_dir() and (folder / "tox.ini").is_file()
        try:
            project = tomllib.loads(read_text(folder / "pyproject.toml")).get("project", {})
        except tomllib.TOMLDecodeError as exc:
            if looks_like:
                raise ConfigError(f"{folder / 'pyproject.toml'} is no valid TOML: {exc}") from None
            continue
        if project.get("name") == "modelfleet" and looks_like:
            return folder
    msg = (
        f"{start.absolute()} is not inside a modelfleet checkout (no pyproject.toml of project 'modelfleet' with "
        "models/ and tox.ini); run `modelfleet new` there, or give --package=DIR for a package of your own"
    )
    raise BadArgument(msg)


def _insert_after(table: Any, previous: str | None, name: str, value: Any) -> None:
    """Add ``name = value`` to a tomlkit table right after the key ``previous`` (beside the other models'
    extras, the file's comments and layout kept), or last. tomlkit has no public way to insert at a place:
    its container's ``_insert_after`` (older releases) or ``_insert_at`` (0.15), else the end."""
    container = table.value
    try:
        if hasattr(container, "_insert_after"):
            container._insert_after(previous, name, value)
            return
        keys = [key.key if key is not None else None for key, _ in container.body]
        container._insert_at(len(keys) - keys[::-1].index(previous), name, value)
    except (AttributeError, IndexError, KeyError, ValueError, TypeError):
        table[name] = value


def with_tox_env(text: str, name: str, after: list[str]) -> str:
    """tox.ini with a ``[testenv:NAME]`` environment for the model, listed in ``env_list`` after the last
    environment named in ``after`` (the other models), or last."""
    found = _ENV_LIST.search(text)
    following = text[found.end() + 1 :].split("\n", 1)[0] if found else ""
    if found is None or not found.group(2) or found.group(2).endswith(",") or following[:1] in (" ", "\t"):
        msg = (
            "tox.ini has no one-line env_list in its [tox] section (it is missing, or it spans lines); put it on one "
            f"line, or add the environment [testenv:{name}] by hand"
        )
        raise ConfigError(msg)
    listed = [env.strip() for env in found.group(2).split(",")]
    if name in listed or re.search(rf"^\[testenv:[^\]]*\b{name}\b[^\]]*\]", text, re.MULTILINE):
        msg = f"tox.ini has an environment named {name!r} already; choose another name"
        raise BadArgument(msg)
    models = [position for position, env in enumerate(listed) if env in after]
    listed.insert(models[-1] + 1 if models else len(listed), name)
    start, end = found.span(2)
    text = f"{text[:start]}{', '.join(listed)}{text[end:]}"
    section = (
        f"\n[testenv:{name}]\n"
        f"description = the {name} model in its own environment: its tests and the shared conformance suite\n"
        f"extras = {registry.normal(name)}\n"
        "commands =\n"
        f"    pytest tests/models/{name} tests/models/test_common.py --model={name} {{posargs}}\n"
    )
    return text.rstrip("\n") + "\n" + section


def _add_to_all(requirements: Any, name: str) -> None:
    """Add ``name`` to the ``modelfleet[...]`` requirement of the ``all`` extra, in place (its comments kept)."""
    for position, item in enumerate(requirements):
        found = _ALL.fullmatch(str(item))
        if found:
            listed = [extra.strip() for extra in found.group(2).split(",") if extra.strip()]
            requirements[position] = f"{found.group(1)}[{','.join([*listed, name])}]{found.group(3)}"
            return
    msg = "pyproject.toml's extra 'all' has no requirement modelfleet[...] to add the new model to; restore it"
    raise ConfigError(msg)


def _installed_module(package: str) -> str | None:
    """What an importable top-level module named ``package`` is (outside the current folder), or None."""
    import importlib.machinery

    if package in sys.builtin_module_names or package in sys.stdlib_module_names:
        return "the standard library's module of that name"
    here = {"", os.getcwd()}
    try:
        spec = importlib.machinery.PathFinder.find_spec(package, [p for p in sys.path if p not in here])
    except (ImportError, ValueError):
        return "an installed module of that name"
    return f"the installed package {package!r} ({spec.origin or 'a namespace package'})" if spec else None


def _values(name: str, family: str, package: str) -> dict[str, str]:
    cls = class_name(name)
    return {
        "name": name,
        "cls": cls,
        "package": package,
        "imported": cls if not cls.startswith("Test") else "ModelUnderTest",  # pytest collects a Test* name
        "alias": "" if not cls.startswith("Test") else " as ModelUnderTest",
        "summary": f"{cls}: a {family} model, generated by `modelfleet new`.",
        "name_line": "" if cls.lower() == name else f'    name = "{name}"\n\n',
        "learns": FAMILIES[family].learns,
    }


def _model(name: str, family: str, values: dict[str, str]) -> str:
    """The model's module; BadArgument if its class would shadow a name the module defines or imports."""
    import ast

    text = _render(FAMILIES[family].template, values)
    if _top_level_names(ast.parse(text).body).count(values["cls"]) > 1:
        msg = f"model name {name!r} gives class {values['cls']!r}, a name its module uses already; choose another"
        raise BadArgument(msg)
    return text


def _top_level_names(body: list[Any]) -> list[str]:
    """The names a module's statements bind: classes, functions, imports and assignments (inside ifs too)."""
    import ast

    names: list[str] = []
    for node in body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.extend(alias.asname or alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.Assign):
            names.extend(target.id for target in node.targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.If):
            names.extend(_top_level_names(node.body + node.orelse))
    return names


def _render(template: str, values: dict[str, str]) -> str:
    import string
    from importlib import resources

    text = resources.files("dispatch").joinpath("templates", template).read_text(encoding="utf-8")
    return string.Template(text).substitute(values)
