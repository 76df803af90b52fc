"""``modelfleet new NAME``: a new model that trains, and passes the conformance suite, before any edit.

Inside a modelfleet checkout it adds the model's folder, its tests, its extra and entry point in
``pyproject.toml`` and its tox environment. With ``--package=DIR`` it writes a separate installable package
instead, for a team's own repository. Everything is checked before anything is written, and a failure leaves
nothing behind: no half-written folder, no edited file.
"""

from __future__ import annotations

import contextlib
import importlib.util
import keyword
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from dispatch import registry
from dispatch.commandline import MANIFEST, NEW, split_flag
from shared import __version__
from shared.errors import BadArgument, ConfigError, LocalIOError, UsageError

USAGE = "modelfleet new NAME [--family=boosted|clustering] [--package=DIR] [--dry_run]"
OWN_PACKAGES = frozenset({"models", "shared", "dispatch"})  # this project's top-level packages
TOP_LEVEL = frozenset({NEW, MANIFEST})  # words of the command line that are not models
TEMPLATE_NAMES = frozenset({"BoostedTreesModel", "ClusteringModel", "ClassVar", "Model"})  # a class would shadow
_NAME = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
_ALL = re.compile(r"modelfleet\[([^\]]*)\]")


@dataclass(frozen=True)
class Family:
    """What a family's model is generated from: its template, and what its generated test asserts it learns."""

    template: str
    learns: str


FAMILIES = {
    "boosted": Family("boosted.py.tmpl", 'metrics["auc"] > 0.65'),
    "clustering": Family("clustering.py.tmpl", 'metrics["silhouette"] > 0.2'),
}


def new(
    name: str,
    *,
    family: Literal["boosted", "clustering"] = "boosted",
    package: str | None = None,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Create model NAME: a class with a seeded sample, its tests and its registration; it trains at once.

    Args:
        name: the model's name, as the command line, the store and the registry will know it (e.g. upsell).
        family: boosted (a LightGBM binary classifier; its objective makes it a regressor) or clustering (k-means).
        package: write a separate installable package in this new folder (for your own repository), instead
            of adding the model to the modelfleet checkout you are in.
        dry_run: say what would be written, and write nothing.
    """
    check_name(name)
    plan = in_package(name, family, Path(package)) if package is not None else in_checkout(name, family, Path.cwd())
    result = {
        "model": name,
        "command": NEW,
        "family": family,
        "where": str(plan.root),
        "created": sorted(plan.created),
        "changed": sorted(plan.changed),
        "next": plan.next,
    }
    if dry_run:
        return {"dry_run": True, **result}
    plan.write()
    return result


def parse(args: list[str]) -> tuple[str, dict[str, Any]]:
    """Parse ``NAME [--flag=value ...]`` (what follows ``new``) into the name and typed values."""
    from shared.params import signature_specs

    if not args or args[0].startswith("-"):
        msg = f"missing the new model's NAME; usage: {USAGE}"
        raise UsageError(msg)
    specs = {spec.name: spec for spec in signature_specs(new)}
    values: dict[str, Any] = {}
    for token in args[1:]:
        flag, text = split_flag(token, NEW, specs)
        if flag in values:
            msg = f"flag --{flag} given more than once for '{NEW}'; give it once"
            raise UsageError(msg)
        values[flag] = specs[flag].from_text(text)
    return args[0], values


def check_name(name: str) -> None:
    """Refuse a model name that cannot be a Python package, an entry point and a store folder at once."""
    if not _NAME.fullmatch(name) or len(name) > 40:
        msg = (
            f"model name {name!r} is not usable; a name is lowercase letters and digits, words joined by single "
            "underscores, starting with a letter, at most 40 characters (e.g. upsell or upsell_v2)"
        )
        raise BadArgument(msg)
    reserved = keyword.iskeyword(name) or name in TOP_LEVEL or name in OWN_PACKAGES
    if reserved or keyword.iskeyword(class_name(name)) or class_name(name) in TEMPLATE_NAMES:
        msg = (
            f"model name {name!r} is reserved (its package or its class {class_name(name)!r} would be a Python "
            "keyword or a name modelfleet uses); choose another"
        )
        raise BadArgument(msg)
    if name in registry.names():
        dists = " and ".join(repr(dist) for dist in registry.registered_by(name))
        msg = (
            f"a model named {name!r} is registered already (by {dists}); two registrations of one name make both "
            "unusable: choose another name"
        )
        raise BadArgument(msg)


def class_name(name: str) -> str:
    """The model's class name: ``upsell_v2`` -> ``UpsellV2``."""
    return "".join(word.capitalize() for word in name.split("_"))


@dataclass
class Plan:
    """What ``new`` writes: files to create and files to change (relative to ``root``), checked beforehand."""

    root: Path
    created: dict[str, str] = field(default_factory=dict)
    changed: dict[str, tuple[str, str]] = field(default_factory=dict)  # path -> (text now, new text)
    fresh: bool = False  # root itself is new: built beside it, then moved into place whole
    next: list[str] = field(default_factory=list)

    def write(self) -> None:
        """Write everything, or (on any failure) nothing."""
        try:
            if self.fresh:
                self._write_fresh()
            else:
                self._write_into()
        except OSError as exc:
            msg = f"cannot write the new model in {self.root}: {exc.strerror or exc}; nothing was written"
            raise LocalIOError(msg) from exc

    def _write_fresh(self) -> None:
        import shutil
        import tempfile

        self.root.parent.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(prefix=f".{self.root.name}.", dir=self.root.parent))
        try:
            for path, text in self.created.items():
                _write(building / path, text)
            if self.root.is_dir():
                self.root.rmdir()  # checked empty; it is replaced by the finished folder
            building.rename(self.root)
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise

    def _write_into(self) -> None:
        made: list[Path] = []
        replaced: list[tuple[Path, str]] = []
        try:
            for path, text in self.created.items():
                for parent in reversed((self.root / path).parents):
                    if not parent.exists():
                        parent.mkdir()
                        made.append(parent)
                _write(self.root / path, text)
                made.append(self.root / path)
            for path, (before, after) in self.changed.items():
                if (self.root / path).read_text(encoding="utf-8") != before:
                    msg = f"{path} changed while the new model was being written; run `modelfleet new` again"
                    raise ConfigError(msg)
                _write(self.root / path, after)
                replaced.append((self.root / path, before))
        except BaseException:
            for target, before in replaced:
                with contextlib.suppress(OSError):
                    _write(target, before)
            for made_path in reversed(made):
                with contextlib.suppress(OSError):
                    if made_path.is_dir():
                        made_path.rmdir()
                    else:
                        made_path.unlink()
            raise


def in_package(name: str, family: str, folder: Path) -> Plan:
    """The plan for a separate package in ``folder``: its pyproject, the model, its tests, a README."""
    folder = folder.expanduser().absolute()
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        what = "a folder that is not empty" if folder.is_dir() else "a file"
        msg = f"--package={folder} is {what}; give a new (or empty) folder for the package, nothing is overwritten"
        raise BadArgument(msg)
    dist = folder.name
    package = re.sub(r"[-.]+", "_", dist).lower()
    if not package.isidentifier() or keyword.iskeyword(package):
        msg = (
            f"--package={folder}: its folder name {dist!r} gives the import package {package!r}, which is no Python "
            "name; name the folder with letters, digits, '-' or '_', starting with a letter (e.g. acme-models)"
        )
        raise BadArgument(msg)
    if package in OWN_PACKAGES or importlib.util.find_spec(package) is not None:
        msg = (
            f"--package={folder}: its import package {package!r} would clash with the package of that name that "
            f"{'modelfleet has' if package in OWN_PACKAGES else 'is installed here'}; name the folder differently "
            f"(e.g. {package}_models)"
        )
        raise BadArgument(msg)
    values = _values(name, family, package)
    values.update(dist=dist, version=__version__, family=family, module=f"{package}.{name}.model")
    plan = Plan(folder, fresh=True)
    plan.created = {
        "pyproject.toml": _render("pyproject.toml.tmpl", values),
        "README.md": _render("README.md.tmpl", values),
        f"{package}/__init__.py": _render("package_init.py.tmpl", values),
        f"{package}/{name}/__init__.py": _render("init.py.tmpl", values),
        f"{package}/{name}/model.py": _render(FAMILIES[family].template, values),
        f"tests/test_{name}.py": _render("test_package.py.tmpl", values),
    }
    plan.next = [f"pip install -e '{folder}[test]'", f"pytest {folder}", f"modelfleet {name} train"]
    return plan


def in_checkout(name: str, family: str, start: Path) -> Plan:
    """The plan inside the modelfleet checkout around ``start``: model folder, tests, extra, entry point, tox."""
    import tomlkit

    root = checkout(start)
    for taken in (f"models/{name}", f"tests/models/{name}"):
        if (root / taken).exists():
            msg = f"{root / taken} exists already; choose another name, or remove it first"
            raise BadArgument(msg)
    pyproject_text = (root / "pyproject.toml").read_text(encoding="utf-8")
    tox_text = (root / "tox.ini").read_text(encoding="utf-8")
    doc = tomlkit.parse(pyproject_text)
    extras = doc["project"].get("optional-dependencies")  # type: ignore[union-attr]
    entry_points = doc["project"].get("entry-points", {}).get(registry.GROUP)  # type: ignore[union-attr]
    if extras is None or family not in extras or entry_points is None:
        msg = (
            f"{root / 'pyproject.toml'} needs the extra {family!r} (the family's libraries, which the new model's "
            f"extra copies) and the [project.entry-points.{registry.GROUP!r}] table; restore them from modelfleet"
        )
        raise ConfigError(msg)
    if name in extras or name in entry_points:
        msg = f"pyproject.toml has an extra or entry point named {name!r} already; choose another name"
        raise BadArgument(msg)
    models = [model for model in entry_points if model in extras]
    requires = tomlkit.array()
    requires.extend(str(item) for item in extras[family])
    if models:  # beside the other models' extras (tomlkit keeps the file's comments and layout)
        extras.value._insert_after(models[-1], name, requires)
    else:
        extras[name] = requires
    if "all" in extras:
        extras["all"] = [_with_extra(item, name) for item in extras["all"]]
    entry_points[name] = f"models.{name}:{class_name(name)}"
    values = _values(name, family, "models")
    values["module"] = f"models.{name}.model"
    plan = Plan(root)
    plan.created = {
        f"models/{name}/__init__.py": _render("init.py.tmpl", values),
        f"models/{name}/model.py": _render(FAMILIES[family].template, values),
        f"tests/models/{name}/test_{name}.py": _render("test_model.py.tmpl", values),
    }
    plan.changed = {
        "pyproject.toml": (pyproject_text, tomlkit.dumps(doc)),
        "tox.ini": (tox_text, with_tox_env(tox_text, name, after=list(entry_points))),
    }
    plan.next = [f"pip install -e '.[{name}]'", f"modelfleet {name} train", f"tox -e {name}"]
    return plan


def checkout(start: Path) -> Path:
    """The modelfleet checkout that holds ``start``: the nearest folder with its pyproject.toml and models/."""
    import tomllib

    for folder in (start.absolute(), *start.absolute().parents):
        try:
            with open(folder / "pyproject.toml", "rb") as handle:
                project = tomllib.load(handle).get("project", {})
        except (OSError, tomllib.TOMLDecodeError):
            continue
        if project.get("name") == "modelfleet" and (folder / "models").is_dir() and (folder / "tox.ini").is_file():
            return folder
    msg = (
        f"{start.absolute()} is not inside a modelfleet checkout (no pyproject.toml of project 'modelfleet' with "
        "models/ and tox.ini); run `modelfleet new` there, or give --package=DIR for a package of your own"
    )
    raise BadArgument(msg)


def with_tox_env(text: str, name: str, after: list[str]) -> str:
    """tox.ini with a ``[testenv:NAME]`` environment for the model, listed in ``env_list`` after the last
    environment named in ``after`` (the other models), or last."""
    env_list = re.search(r"^(env_list\s*=[ \t]*)(\S[^\n]*)$", text, re.MULTILINE)
    if env_list is None:
        msg = "tox.ini has no one-line env_list in its [tox] section; add the new model's environment by hand"
        raise ConfigError(msg)
    listed = [env.strip() for env in env_list.group(2).split(",")]
    if name in listed or re.search(rf"^\[testenv:[^\]]*\b{name}\b[^\]]*\]", text, re.MULTILINE):
        msg = f"tox.ini has an environment named {name!r} already; choose another name"
        raise BadArgument(msg)
    start, end = env_list.span(2)
    models = [position for position, env in enumerate(listed) if env in after]
    listed.insert(models[-1] + 1 if models else len(listed), name)
    text = f"{text[:start]}{', '.join(listed)}{text[end:]}"
    section = (
        f"\n[testenv:{name}]\n"
        f"description = the {name} model in its own environment: its tests and the shared conformance suite\n"
        f"extras = {name}\n"
        "commands =\n"
        f"    pytest tests/models/{name} tests/models/test_common.py --model={name} {{posargs}}\n"
    )
    return text.rstrip("\n") + "\n" + section


def _with_extra(item: Any, name: str) -> str:
    """``modelfleet[a,b]`` -> ``modelfleet[a,b,name]``; any other requirement as it is."""
    found = _ALL.fullmatch(str(item))
    return f"modelfleet[{found.group(1)},{name}]" if found else str(item)


def _values(name: str, family: str, package: str) -> dict[str, str]:
    cls = class_name(name)
    return {
        "name": name,
        "cls": cls,
        "package": package,
        "summary": f"{cls}: a {family} model, generated by `modelfleet new`.",
        "name_line": "" if cls.lower() == name else f'    name = "{name}"\n\n',
        "learns": FAMILIES[family].learns,
    }


def _render(template: str, values: dict[str, str]) -> str:
    import string
    from importlib import resources

    text = resources.files("dispatch").joinpath("templates", template).read_text(encoding="utf-8")
    return string.Template(text).substitute(values)


def _write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole: a temporary file beside it, moved into place."""
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
