"""Typed config schemas: one pydantic model per TOML table, declared next to the parser that reads it.

A model says, for each key of its table, the type, the range and whether it may be left out; keys
it does not declare are refused. :func:`check` validates a parsed TOML value against a model and turns
pydantic's report into one :class:`~riskoff.util.errors.ConfigError` line naming the file, the key
path (``strategies[2].overlays.min_bars_out``), the value found and what was expected. The parsers
then do what a schema cannot: names against the plug-ins and the catalog, dates in order, sizes.

Validation is strict (pydantic's strict mode): a string is never read as a number, ``true`` is not
the number 1 and ``2.5`` is not a whole number; an integer is a valid float. Lists of names accept
one string as one name (``assets = "SPY"`` is ``["SPY"]``, never its letters).

This module imports pydantic; only config parsers import it, so the CLI's start-up stays light
(``tests/test_lazy.py``).
"""
from __future__ import annotations

import datetime as dt
import types
import typing
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError

from riskoff.util.errors import ConfigError, did_you_mean

__all__ = ["Table", "Name", "Names", "DateLike", "Number", "WholeNumber", "check", "table_keys"]


class Table(BaseModel):
    """Base of every config table: strict types, unknown keys refused, frozen once read."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


def _one_is_a_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


#: a non-empty name
Name = Annotated[str, Field(min_length=1)]
#: a list of names; one string is one name
Names = Annotated[list[Name], BeforeValidator(_one_is_a_list),
                  Field(description='a list of names like ["SPY", "BTC-USD"] (one name may be written alone)')]
#: a TOML date or datetime, or text the parser reads as one (``"auto"``, ``"2025-10-10T21:20Z"``)
DateLike = Annotated[dt.datetime | dt.date | str,
                     Field(description="a date YYYY-MM-DD (or a UTC time YYYY-MM-DDTHH:MMZ)")]
#: a finite number (an integer is a valid number; ``true`` is not)
Number = Annotated[float, Field(allow_inf_nan=False)]


def _whole(value: float) -> int:
    if not float(value).is_integer():
        raise ValueError("a whole number")
    return int(value)


#: a whole number that may be written as a float (``1e30``: TOML integers stop at 2**63 - 1), as an int
WholeNumber = Annotated[float, Field(allow_inf_nan=False), AfterValidator(_whole)]

def table_keys(model: type[BaseModel]) -> tuple[str, ...]:
    """The keys a table declares, in declaration order (by their TOML names)."""
    return tuple(f.alias or name for name, f in model.model_fields.items())


def check(model: Any, value: Any, where: str, at: str = "") -> Any:
    """``value`` validated against ``model`` (a :class:`Table` or a type built of them, such as
    ``dict[str, WindowTable]``); the first problem is a ConfigError naming ``where`` (the file) and
    the key path below ``at``, e.g. ``x.toml: costs.crypto.fee_bps = 'x'; expected a number``."""
    try:
        if isinstance(model, type) and issubclass(model, BaseModel):
            return model.model_validate(value)
        return TypeAdapter(model, config=ConfigDict(strict=True)).validate_python(value)
    except ValidationError as exc:
        raise ConfigError(_message(exc, value, model, where, at)) from None


def _walk(doc: Any, loc: tuple) -> tuple[list, Any]:
    """The longest prefix of ``loc`` that indexes into ``doc`` (pydantic adds union-branch tags such as
    ``'list[str]'`` to the location; they are not keys of the document) and the value found there."""
    path: list = []
    here = doc
    for i, part in enumerate(loc):
        if isinstance(here, Mapping) and part in here:
            here = here[part]
        elif isinstance(here, list) and isinstance(part, int) and 0 <= part < len(here):
            here = here[part]
        elif isinstance(part, str) and (not isinstance(here, Mapping) or i < len(loc) - 1):
            continue  # a union branch's tag (the location goes on inside the same value)
        else:
            break
        path.append(part)
    return path, here


def _dotted(path: list, at: str = "") -> str:
    out = at
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _message(exc: ValidationError, doc: Any, model: Any, where: str, at: str) -> str:
    # One line for the deepest place any error reaches: union branches report the same value once
    # per branch, and the deepest one is where the input went wrong (``tearsheets = [5]``: item 0).
    errors = [(e, *_walk(doc, e["loc"])) for e in exc.errors(include_url=False)]
    depth = max(len(path) for _, path, _ in errors)
    deepest = [e for e in errors if len(e[1]) == depth]
    # a table that was meant (it has keys) is better told its missing or unknown key than "expected text"
    first = next((e for e in deepest if e[0]["type"] in ("extra_forbidden", "missing")), deepest[0])
    error, path, value = first
    key = _dotted(path, at)
    prefix = f"{where}: {key}" if key else where
    if error["type"] == "extra_forbidden":
        bad = str(error["loc"][-1])
        parent = _dotted(path[:-1], at) if path and path[-1] == error["loc"][-1] else key
        allowed = _declared(model, path[:-1] if parent != key else path)
        hint = did_you_mean(bad, allowed) if allowed else ""
        expected = f"; expected one of: {', '.join(allowed)}" if allowed else ""
        return f"{where}: {parent + ': ' if parent else ''}unknown key '{bad}'{hint}{expected}"
    if error["type"] == "missing":
        missing = str(error["loc"][-1])
        return f"{prefix}: missing required key '{missing}'"
    here = [e for e, p, _ in errors if p == path]
    # a value of the right type that breaks a bound: say the bound, not the other union branches
    bounded = [e for e in here if e["type"] in _BOUNDS or e["type"] in ("too_short", "too_long")]
    described = _description(_field(model, path))
    if bounded:
        return f"{prefix} = {value!r}; expected {described or _range_text(model, path, bounded[0])}"
    if {e["type"] for e in here} <= {"int_type", "float_type", "int_from_float"}:
        return f"{prefix} = {value!r}; expected {_range_text(model, path, here[0])}"
    if described:
        return f"{prefix} = {value!r}; expected {described}"
    expected = sorted({_plain(e["msg"]) for e in here})
    return f"{prefix} = {value!r}; expected {' or '.join(expected)}"


_BOUNDS = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<=",
           "finite_number": ""}


def _range_text(model: Any, path: list, error: dict) -> str:
    """The declared range of the value at ``path`` as a reader writes it (``a whole number 1 .. 64``,
    ``a number in [0.5, 1)``, ``at least 1 value(s)``), from the field's declaration where it can be
    found, else from the bound the error names."""
    import annotated_types as at_

    ctx = error.get("ctx", {})
    if error["type"] == "too_short":
        return f"at least {ctx.get('min_length', 1)} value(s)"
    if error["type"] == "too_long":
        return f"at most {ctx.get('max_length')} value(s)"
    kind, metadata = _numeric_declaration(_field(model, path))
    low = next(((m.ge, "[") for m in metadata if isinstance(m, at_.Ge)), None) or \
        next(((m.gt, "(") for m in metadata if isinstance(m, at_.Gt)), None)
    high = next(((m.le, "]") for m in metadata if isinstance(m, at_.Le)), None) or \
        next(((m.lt, ")") for m in metadata if isinstance(m, at_.Lt)), None)
    if low and high:
        if low[1] == "[" and high[1] == "]":
            return f"{kind} {low[0]:g} .. {high[0]:g}"
        return f"{kind} in {low[1]}{low[0]:g}, {high[0]:g}{high[1]}"
    if low:
        return f"{kind} {'>=' if low[1] == '[' else '>'} {low[0]:g}"
    if high:
        return f"{kind} {'<=' if high[1] == ']' else '<'} {high[0]:g}"
    if error["type"] in ("int_type", "float_type", "int_from_float"):
        return kind
    return "a finite number" if error["type"] == "finite_number" else _plain(error["msg"])


def _numeric_declaration(field: Any) -> tuple[str, list]:
    """("a whole number" or "a number", the constraints) of a field, looking inside ``X | None``."""
    if field is None:
        return "a number", []
    metadata = list(field.metadata)
    base = field.annotation
    members = typing.get_args(base) if typing.get_origin(base) in (typing.Union, types.UnionType) else (base,)
    for member in members:
        if typing.get_origin(member) is Annotated:
            base, *extras = typing.get_args(member)
            for extra in extras:
                metadata.extend(getattr(extra, "metadata", [extra]))
        elif member is not type(None):
            base = member
    return ("a whole number" if base is int else "a number"), metadata


def _field(model: Any, path: list) -> Any:
    """The pydantic FieldInfo of the key at the end of ``path`` (metadata merged), or None."""
    from pydantic.fields import FieldInfo

    if not path:
        return None
    current: Any = model
    for part in path[:-1]:
        current = _table_type(current, part)
        if current is None:
            return None
    if isinstance(current, type) and issubclass(current, BaseModel):
        fields = {f.alias or n: f for n, f in current.model_fields.items()}
        return fields.get(path[-1])
    inner = _table_type(current, path[-1], raw=True)
    return FieldInfo.from_annotation(inner) if inner is not None else None


def _description(field: Any) -> str:
    """What a field expects in words, from its ``Field(description=...)`` or an Annotated type's."""
    if field is None:
        return ""
    if field.description:
        return field.description
    tp = field.annotation
    members = typing.get_args(tp) if typing.get_origin(tp) in (typing.Union, types.UnionType) else (tp,)
    for member in members:
        if typing.get_origin(member) is Annotated:
            for extra in typing.get_args(member)[1:]:
                if getattr(extra, "description", None):
                    return extra.description
    return ""


#: pydantic's words for TOML's
_TOML_WORDS = {"a valid dictionary": "a table", "a valid list": "a list", "a valid string": "text",
               "a valid number": "a number", "a valid integer": "a whole number", "a valid boolean": "true or false",
               "a finite number": "a finite number"}


def _plain(msg: str) -> str:
    text = msg.removeprefix("Input should be ").removeprefix("Value error, ").split(" or instance of ")[0]
    text = text.replace("Extra inputs are not permitted", "no such key").replace("Field required", "the key")
    text = text.replace("String should have at least 1 character", "non-empty text")
    return _TOML_WORDS.get(text, text)


def _declared(model: Any, path: list) -> tuple[str, ...]:
    """The keys declared for the table at ``path`` below ``model`` (for the unknown-key hint)."""
    current: Any = model
    for part in path:
        current = _table_type(current, part)
        if current is None:
            return ()
    return table_keys(current) if isinstance(current, type) and issubclass(current, BaseModel) else ()


def _table_type(tp: Any, part: Any, raw: bool = False) -> Any:
    """The type one step below ``tp`` (a model field, a dict value, a list item), models preferred;
    ``raw`` keeps it as declared (Annotated, union)."""
    unwrap = (lambda t: t) if raw else _unwrap
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        fields = {f.alias or n: f for n, f in tp.model_fields.items()}
        return unwrap(fields[part].annotation) if part in fields else None
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (dict, Mapping) and len(args) == 2:
        return unwrap(args[1])
    if origin is list and args:
        return unwrap(args[0])
    return None


def _unwrap(tp: Any) -> Any:
    """A model inside an Annotated or a union, else the type as declared."""
    if typing.get_origin(tp) is Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        for arg in typing.get_args(tp):
            inner = _unwrap(arg)
            if isinstance(inner, type) and issubclass(inner, BaseModel) or typing.get_origin(inner) in (dict, list):
                return inner
        return None
    return tp
