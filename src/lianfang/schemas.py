"""The base of every request body that writes: unknown fields are refused, never ignored.

A caller who guesses a field name (``spo2`` for ``spo2_pct``) must hear so; a body that
answered 201 and dropped the reading would lose the very value that should raise an alert. Every
create, update, import-options and forecast-input schema derives from ``WriteSchema``;
``tests/api/test_strict_bodies.py`` walks the OpenAPI document and fails on a write route whose
body does not.
"""

from __future__ import annotations

import dataclasses
import difflib
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from lianfang.i18n import Text, _, text_in

UNKNOWN = "extra_forbidden"  # pydantic's error type for a field the schema does not have
HINT_CUTOFF = 0.6


class WriteSchema(BaseModel):
    """A request body that writes: every field it does not declare is an error (422)."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class UnknownField:
    """A field a body held that its schema does not know, and the nearest known name."""

    loc: tuple[str | int, ...]
    hint: str | None

    @property
    def name(self) -> str:
        """The field's path inside the body (``scenarios.0.festivals``)."""
        inner = self.loc[1:] if self.loc[:1] == ("body",) else self.loc
        return ".".join(str(part) for part in inner)

    def text(self) -> Text | str:
        """The field as a message names it, with the hint."""
        if self.hint is None:
            return self.name
        return _("%(field)s (did you mean %(hint)s?)", field=self.name, hint=self.hint)

    def as_json(self) -> dict[str, Any]:
        return {"field": self.name, "loc": list(self.loc), "did_you_mean": self.hint}


def unknown_message(unknown: Sequence[UnknownField], language: str) -> str:
    """The message of a body refused for its unknown fields, in one language."""
    separator = "；" if language == "zh" else "; "
    names = separator.join(text_in(u.text(), language) for u in unknown)
    message = _("unknown field(s), nothing was written: %(fields)s", fields=names)
    return message.in_language(language)


def nearest(name: str, known: Iterable[str]) -> str | None:
    """The known field a mistyped name most likely meant (a longer name it begins, or the
    closest spelling), or None."""
    names = sorted(known)
    lowered = name.lower()
    for candidate in names:
        if candidate.lower().startswith(lowered) or lowered.startswith(candidate.lower()):
            return candidate
    close = difflib.get_close_matches(lowered, names, n=1, cutoff=HINT_CUTOFF)
    return close[0] if close else None


def _model_at(model: type[BaseModel] | None, path: Sequence[str | int]) -> type[BaseModel] | None:
    """The model that holds the field at ``path`` (list indices and dict keys stepped over)."""
    for part in path:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        model = _model_in(field.annotation) if field is not None else None
    return model


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in typing.get_args(annotation):
        found = _model_in(argument)
        if found is not None:
            return found
    return None


def unknown_fields(errors: Sequence[Any], body_model: type[BaseModel] | None) -> list[UnknownField]:
    """The unknown fields among a request's validation errors, each with a hint taken from the
    fields of the model that refused it."""
    out = []
    for error in errors:
        if error.get("type") != UNKNOWN:
            continue
        loc = tuple(error["loc"])
        inner = loc[1:] if loc and loc[0] == "body" else loc
        holder = _model_at(body_model, inner[:-1])
        name = str(loc[-1])
        out.append(UnknownField(loc, nearest(name, holder.model_fields) if holder else None))
    return out


def mirror(source: type[Any], name: str, **overrides: Any) -> type[WriteSchema]:
    """A strict schema with the fields of a dataclass (its types and defaults), so a pure core
    stays free of pydantic while its API input still refuses unknown fields; ``overrides``
    replace some fields' (type, default)."""
    hints = typing.get_type_hints(source)
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(source):
        if f.name in overrides:
            fields[f.name] = overrides[f.name]
            continue
        if f.default is not dataclasses.MISSING:
            default: Any = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = Field(default_factory=f.default_factory)
        else:
            default = ...
        fields[f.name] = (hints[f.name], default)
    model: type[WriteSchema] = create_model(
        name, __base__=WriteSchema, __doc__=(source.__doc__ or "").split("\n")[0], **fields
    )
    return model
