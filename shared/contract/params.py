"""Command parameters: one spec per parameter, taken from the code, used everywhere.

A parameter is declared once, as an annotated argument of a command (``rows: Annotated[int, Ge(1)] = 5000``)
or as a hyperparameter field (``n_estimators: int = param(200, "Boosting rounds.", ge=1)``). From that
declaration come its command-line parsing, its validation from Python, its help line, its environment
variable and its entry in ``modelfleet manifest``.

Values are parsed by the annotation with pydantic, never guessed from their text: ``--run_id=20241010``
stays the string ``'20241010'`` and ``--n_estimators=abc`` is refused before any work starts. pydantic is
imported only when a value is parsed, so help and the manifest stay fast.

One cohesive thing: everything here comes from one declaration, a parameter's annotation (its parsing,
validation, help line, environment variable and manifest entry), and the internals below read that same
annotation for :class:`Spec`, so a split would only export private helpers.
"""

import dataclasses
import datetime as dt
import inspect
import json
import re
import types
import typing
from functools import cache
from typing import Annotated, Any, Literal, NoReturn, Union

from shared.errors import BadArgument, ModelDefinitionError, shown

_META = "modelfleet"


@dataclasses.dataclass(frozen=True)
class Shown:
    """A marker for ``Annotated``: the type name that help and the manifest show."""

    name: str


@dataclasses.dataclass(frozen=True)
class Bounds:
    """Numeric bounds for ``Annotated``: ``Annotated[int, Bounds(ge=1)]``.

    Our own small marker, so that declaring bounds costs nothing at import; it becomes an
    ``annotated_types.Interval`` when pydantic validates a value.
    """

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None


@dataclasses.dataclass(frozen=True)
class Check:
    """A marker for ``Annotated``: ``fn(value)`` returns the value or raises ValueError saying what is wrong.

    The message should read after the flag's name: ``must be K/N with 0 <= K < N``.
    """

    fn: typing.Callable[[Any], Any]


@dataclasses.dataclass(frozen=True)
class PerCommand:
    """A marker for ``Annotated``: read only from the command's own variable, ``MODELFLEET_<MODEL>_<COMMAND>_<NAME>``.

    For a parameter whose name another command uses with another meaning (``sample``'s ``seed`` is not the
    model's). A model-wide ``MODELFLEET_<MODEL>_<NAME>`` is left to the parameters it means.
    """


@dataclasses.dataclass(frozen=True)
class Output:
    """A marker for ``Annotated``: where a command writes. Read only from the command's own variable; a
    model-wide ``MODELFLEET_<MODEL>_<NAME>`` for it is refused (78), so that a value set for one command can
    never redirect another command's writes."""


@dataclasses.dataclass(frozen=True)
class Needs:
    """A marker for ``Annotated``: the parameter is one only of a model whose ``Params`` has this field
    (``stop_fraction`` where there is ``early_stopping_rounds``); other models neither show nor take it."""

    field: str


# A table input or output: a Parquet or CSV path, or any fsspec URL. In Python, inputs may be DataFrames.
TablePath = Annotated[str, Shown("Parquet or CSV path or URL")]
TableOutput = Annotated[str, Shown("Parquet or CSV path or URL"), Output()]
_BOUNDS = (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"))
_TRUE, _FALSE = ("true", "yes", "1", "on"), ("false", "no", "0", "off")


@dataclasses.dataclass(frozen=True)
class Spec:
    """One parameter of one command: its name, full annotation, default and help line."""

    name: str
    annotation: Any
    default: Any = inspect.Parameter.empty
    help: str = ""

    @property
    def required(self) -> bool:
        """Whether the parameter has no default."""
        return self.default is inspect.Parameter.empty

    @property
    def base(self) -> Any:
        """The annotation without constraints and without ``| None``."""
        return _base(self.annotation)

    @property
    def optional(self) -> bool:
        """Whether None is an allowed value."""
        return _is_optional(_strip(self.annotation))

    @property
    def flag(self) -> bool:
        """Whether the parameter is a boolean switch (``--name`` / ``--noname``)."""
        return self.base is bool

    def constraints(self) -> dict[str, float]:
        """The numeric bounds declared next to the annotation, as plain data."""
        found = {}
        for item in _metadata(self.annotation):
            for key, _ in _BOUNDS:
                if getattr(item, key, None) is not None:
                    found[key] = getattr(item, key)
        return found

    def type_name(self) -> str:
        """The type as people read it: ``int``, ``date``, ``one of 'a', 'b'``, ``list of str``."""
        return _type_name(_strip(self.annotation))

    def constraint_text(self) -> str:
        """The bounds as people read them, e.g. ``>= 1`` or ``> 0 and <= 1``."""
        bounds = self.constraints()
        return " and ".join(f"{sign} {_number(bounds[key])}" for key, sign in _BOUNDS if key in bounds)

    @property
    def per_command(self) -> bool:
        """Whether only the command's own variable sets it (never the model-wide one)."""
        return any(isinstance(m, (PerCommand, Output)) for m in _metadata(self.annotation))

    @property
    def output(self) -> bool:
        """Whether it names where the command writes."""
        return any(isinstance(m, Output) for m in _metadata(self.annotation))

    def env_var(self, model: str, command: str | None = None) -> str:
        """The environment variable help shows for this parameter: the model-wide one, unless it is per command."""
        if self.per_command and command:
            return f"MODELFLEET_{model}_{command}_{self.name}".upper()
        return f"MODELFLEET_{model}_{self.name}".upper()

    def env_vars(self, model: str, command: str) -> list[str]:
        """The variables that set this parameter of ``command``, highest first: the command's own, then the
        model-wide one (unless the parameter is per command)."""
        own = f"MODELFLEET_{model}_{command}_{self.name}".upper()
        return [own] if self.per_command else [own, self.env_var(model)]

    def from_text(self, text: str | bool, source: str | None = None) -> Any:
        """Parse a value given as text (a flag or a variable) by the annotation; BadArgument if it does not fit."""
        source = source or f"--{self.name}"
        if isinstance(text, bool):
            if self.flag:
                return text
            _refuse(source, "a value", "no value" if text else "a --no prefix")
        base = self.base
        if text == "":
            _refuse(source, "a value", "an empty string (leave the flag out for the default)")
        if base is str or base is Any:
            value: Any = text  # text parameters take the text verbatim: '007' stays '007'
        elif base in (dt.date, dt.datetime):
            value = _iso(self, text, source)
        elif base is bool:
            value = _bool(self, text, source)
        elif typing.get_origin(base) in (list, tuple):
            value = _list_from_text(self, text, source)
        elif base in (int, float) and "_" in text:  # Python's 1_000 is no number a user types by mistake
            return _refuse(source, self.type_name(), repr(text))
        else:
            return self._validate(text, source, strings=True)
        return self._validate(value, source, strings=False)

    def from_python(self, value: Any, source: str | None = None) -> Any:
        """Check a value given from Python or a config file; BadArgument if it does not fit."""
        source = source or self.name
        if value is None and self.optional:
            return None  # an optional parameter given None in Python is the parameter left out
        if isinstance(value, bool) and self.base in (int, float):
            _refuse(source, self.type_name(), repr(value))  # pydantic would quietly take True as 1
        if isinstance(value, str) and value == "" and not self.flag:
            _refuse(source, "a value", "an empty string")
        if self.base in (dt.date, dt.datetime) and not isinstance(value, (dt.date, str)):
            _refuse(source, f"{self.type_name()} as text or a date", shown(value))  # never seconds since 1970
        if self.base in (dt.date, dt.datetime) and isinstance(value, str):
            value = _iso(self, value, source)  # the command line's rule: ISO 8601 text only
        return self._validate(value, source, strings=False)

    def to_text(self, value: Any) -> str | None:
        """Return the text that :meth:`from_text` parses back to ``value`` (None: give no value, a bare flag)."""
        if value is None:
            msg = f"--{self.name}: None cannot be given on the command line; leave the flag out instead"
            raise BadArgument(msg)
        if isinstance(value, bool) and self.flag:
            return None
        if isinstance(value, (dt.date, dt.datetime)):
            return value.isoformat()
        if isinstance(value, (list, tuple)):
            return json.dumps([v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v for v in value])
        if isinstance(value, float):
            return repr(value)
        return str(value)

    def describe(self, model: str | None = None, command: str | None = None) -> dict[str, Any]:
        """Plain data for help, ``describe`` and the manifest."""
        out: dict[str, Any] = {"type": self.type_name(), "help": self.help}
        out["required"] = self.required
        if not self.required:
            out["default"] = plain_default(self.default)
        if self.constraints():
            out["constraints"] = self.constraints()
        if self.choices():
            out["choices"] = list(self.choices())
        if model:
            out["env"] = self.env_var(model, command)
            if command:
                out["env_command"] = self.env_vars(model, command)[0]
        return out

    def choices(self) -> tuple[Any, ...]:
        """The allowed values of a ``Literal`` parameter."""
        base = self.base
        return typing.get_args(base) if typing.get_origin(base) is Literal else ()

    def _validate(self, value: Any, source: str, strings: bool) -> Any:
        from pydantic import ValidationError

        adapter = _adapter(self.annotation)
        try:
            return adapter.validate_strings(value) if strings else adapter.validate_python(value)
        except ValidationError as exc:
            error = exc.errors()[0]
            if error["type"] == "value_error" and any(isinstance(m, Check) for m in _metadata(self.annotation)):
                msg = f"{source} {error['ctx']['error']}; got {shown(value)}"
                raise BadArgument(msg) from None
            expected = self.type_name() + (f" {self.constraint_text()}" if self.constraint_text() else "")
            detail = error["msg"][0].lower() + error["msg"][1:]
            msg = f"{source} must be {expected}: {detail}; got {shown(value)}"
            raise BadArgument(msg) from None


def param(default: Any, help: str, **bounds: float) -> Any:
    """Declare a hyperparameter field: ``n_estimators: int = param(200, "Boosting rounds.", ge=1)``."""
    return dataclasses.field(default=default, metadata={_META: (help, bounds)})


def hyperparameters(params_cls: type) -> list[Spec]:
    """Return the specs of a hyperparameter dataclass, bounds folded into each annotation."""
    hints = typing.get_type_hints(params_cls)
    specs = []
    for field in dataclasses.fields(params_cls):
        help_text, bounds = field.metadata.get(_META, ("", {}))
        annotation = hints[field.name]
        if bounds:
            annotation = Annotated[annotation, Bounds(**bounds)]
        specs.append(Spec(field.name, annotation, field.default, help_text))
    return specs


def applies(spec: Spec, params_cls: Any) -> bool:
    """Whether ``spec`` is a parameter for a model with hyperparameters ``params_cls`` (see :class:`Needs`)."""
    needed = [item.field for item in _metadata(spec.annotation) if isinstance(item, Needs)]
    fields = {f.name for f in dataclasses.fields(params_cls)} if dataclasses.is_dataclass(params_cls) else set()
    return all(name in fields for name in needed)


def signature_specs(fn: Any) -> list[Spec]:
    """Return the specs of a function's named parameters (after the first: the model), help taken from its
    docstring. The first parameter's annotation is never evaluated (a command may name ``Model`` for type
    checkers only)."""
    first = next(iter(inspect.signature(fn).parameters), None)
    annotations = {k: v for k, v in getattr(fn, "__annotations__", {}).items() if k not in (first, "return")}
    hints = typing.get_type_hints(_Annotated(annotations), globalns=getattr(fn, "__globals__", {}), include_extras=True)
    helps = _arg_help(inspect.getdoc(fn) or "")
    specs = []
    for parameter in list(inspect.signature(fn).parameters.values())[1:]:
        if parameter.kind in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL):
            continue
        annotation = hints.get(parameter.name, Any)
        specs.append(Spec(parameter.name, annotation, parameter.default, helps.get(parameter.name, "")))
    return specs


class _Annotated:
    """Annotations alone, for ``typing.get_type_hints`` to evaluate in the function's module."""

    def __init__(self, annotations: dict[str, Any]) -> None:
        self.__annotations__ = annotations


def help_line(spec: Spec, model: str, command: str | None = None) -> str:
    """One help line: the description, then type, bounds and environment variable in brackets."""
    facts = [spec.type_name()] + ([spec.constraint_text()] if spec.constraint_text() else [])
    facts.append(f"env {spec.env_var(model, command)}")
    return f"{spec.help} [{'; '.join(facts)}]".strip()


def display_annotation(spec: Spec) -> Any:
    """A plain annotation for Fire's help (Fire shows ``Annotated[...]`` as just 'Annotated')."""
    base = spec.base
    return base if isinstance(base, type) else str


# -- internals -----------------------------------------------------------------------------------


@cache
def _adapter(annotation: Any) -> Any:
    from pydantic import TypeAdapter

    return TypeAdapter(_for_pydantic(annotation))


def _for_pydantic(annotation: Any) -> Any:
    """Replace our Bounds markers with the annotated-types constraints pydantic understands."""
    import annotated_types
    from pydantic import AfterValidator

    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Annotated:
        extras = [
            annotated_types.Interval(**dataclasses.asdict(m))
            if isinstance(m, Bounds)
            else AfterValidator(m.fn)
            if isinstance(m, Check)
            else m
            for m in annotation.__metadata__
        ]
        return Annotated[(_for_pydantic(args[0]), *extras)]
    if origin in (Union, types.UnionType):
        return Union[tuple(_for_pydantic(a) for a in args)]  # noqa: UP007 - built at run time
    if annotation is float:  # no parameter takes an infinity or NaN: it would make a model meaningless
        from pydantic import AllowInfNan

        return Annotated[float, AllowInfNan(False)]
    return annotation


def _strip(annotation: Any) -> Any:
    while typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _metadata(annotation: Any) -> list[Any]:
    found = []
    while True:
        if typing.get_origin(annotation) is Annotated:
            found.extend(annotation.__metadata__)
            annotation = typing.get_args(annotation)[0]
        elif _is_optional(annotation):
            annotation = _non_none(annotation)
        else:
            return found


def _is_optional(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (Union, types.UnionType) and type(None) in typing.get_args(annotation)


def _non_none(annotation: Any) -> Any:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    return args[0] if len(args) == 1 else Union[tuple(args)]  # noqa: UP007 - built at run time


def _base(annotation: Any) -> Any:
    annotation = _strip(annotation)
    if _is_optional(annotation):
        annotation = _strip(_non_none(annotation))
    return annotation


def _type_name(annotation: Any) -> str:
    shown = [m.name for m in _metadata(annotation) if isinstance(m, Shown)]
    if shown:
        return shown[0]
    annotation = _strip(annotation)
    if _is_optional(annotation):
        return _type_name(_non_none(annotation))
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(annotation))
    if origin in (list, tuple):
        args = typing.get_args(annotation)
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(annotation))
    if annotation is Any:
        return "text"
    names = {dt.date: "date (YYYY-MM-DD)", dt.datetime: "datetime (ISO 8601)", str: "text"}
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _bool(spec: Spec, text: str, source: str) -> bool:
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    return _refuse(source, "true or false", repr(text))


def _list_from_text(spec: Spec, text: str, source: str) -> list[Any]:
    """A list is JSON (``["a", "b"]``) or comma-separated text (``a,b``)."""
    if text.lstrip().startswith("["):
        try:
            items = json.loads(text)
        except ValueError:
            _refuse(source, "a JSON list or comma-separated values", repr(text))
    else:
        items = [item.strip() for item in text.split(",")] if text.strip() else []
    return items


def _iso(spec: Spec, text: str, source: str) -> Any:
    """Dates and times as ISO 8601 text only (2024-10-10 or 20241010), never as Unix timestamps."""
    parse = dt.date.fromisoformat if spec.base is dt.date else dt.datetime.fromisoformat
    try:
        return parse(text)
    except ValueError:
        return _refuse(source, spec.type_name(), repr(text))


def _refuse(source: str, expected: str, got: str) -> NoReturn:
    msg = f"{source} must be {expected}; got {got}"
    raise BadArgument(msg)


def _number(value: float) -> str:
    """A bound as people read it: 2147483647, not 2.14748e+09; 0.9, not 0.900000."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def plain_default(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return list(value) if isinstance(value, tuple) else value


_ARG = re.compile(r"^\s{2,}(\w+):\s*(.*)$")


def _arg_help(doc: str) -> dict[str, str]:
    """Map argument names to their one-line help from a Google-style ``Args:`` section."""
    helps, current, in_args = {}, None, False
    for line in doc.splitlines():
        if line.strip() == "Args:":
            in_args = True
            continue
        if in_args and line and not line.startswith(" "):
            break
        match = _ARG.match(line) if in_args else None
        if match:
            current = match.group(1)
            helps[current] = match.group(2).strip()
        elif in_args and current and line.strip():
            helps[current] += " " + line.strip()
    return helps


def check_reach_estimator(cls: Any) -> None:
    """ModelDefinitionError unless every field of ``cls.Params`` is mapped to an estimator argument."""
    fields = [f.name for f in dataclasses.fields(cls.Params)]
    unmapped = [name for name in fields if name not in cls.estimator_params]
    unknown = sorted(set(cls.estimator_params) - set(fields))
    problems = [f"hyperparameter(s) {unmapped} never reach the estimator"] if unmapped else []
    problems += [f"{unknown} are not fields of Params"] if unknown else []
    if problems:
        msg = (
            f"model class {cls.__qualname__}: {'; '.join(problems)}; map every field of {cls.Params.__name__} to the "
            f"estimator argument it sets in {cls.__name__}.estimator_params, or drop it from Params"
        )
        raise ModelDefinitionError(msg)
