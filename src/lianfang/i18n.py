"""Interface text: one lazy ``_()``, resolved in the current language from gettext catalogues.

Messages are written in English (the msgid) with ``%(name)s`` placeholders; the translations
live in ``locale/<language>/LC_MESSAGES/messages.po`` (``make messages`` extracts and updates
them, docs/development.md says how to add one). ``_()`` returns a ``Text`` that is translated
when it is shown: ``str(text)`` uses the current language (a context variable the web
middleware sets per request, the CLI once), ``text.in_language("en")`` a given one. The
``.mo`` files are compiled from the ``.po`` files by ``make messages`` and the package build;
when one is missing or older than its ``.po``, the ``.po`` is read instead, so a fresh clone
works without a build step.
"""

from __future__ import annotations

import gettext as stdlib_gettext
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
CONTEXT_SEPARATOR = "\x04"  # how gettext joins a message context and its msgid

_current: ContextVar[str | None] = ContextVar("lianfang_language", default=None)
_process_default = [DEFAULT_LANGUAGE]


def current_language() -> str:
    """The language text is shown in now: the request's, else the process default."""
    return _current.get() or _process_default[0]


def set_default_language(language: str) -> None:
    """Set the language of a process that serves no requests (the CLI)."""
    _process_default[0] = known(language)


def known(language: str | None) -> str:
    """The language if it is one lianfang speaks, else the default."""
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


@contextmanager
def use_language(language: str) -> Iterator[None]:
    """Show text in ``language`` inside the block (a request, a test)."""
    token = _current.set(known(language))
    try:
        yield
    finally:
        _current.reset(token)


class Text:
    """A message translated when shown: in the current language by ``str()``, or in a given
    one by ``in_language``. Placeholder values that are ``Text`` are translated alike."""

    __slots__ = ("context", "msgid", "values")

    def __init__(
        self, msgid: str, values: Mapping[str, object] | None = None, context: str | None = None
    ) -> None:
        self.msgid = msgid
        self.values = dict(values) if values else None
        self.context = context

    def in_language(self, language: str) -> str:
        """The message in ``language`` with its placeholders filled in."""
        text = translation(known(language), self.msgid, self.context)
        if not self.values:
            return text
        return text % {k: _resolved(v, language) for k, v in self.values.items()}

    def __mod__(self, values: Mapping[str, object]) -> Text:
        return Text(self.msgid, {**(self.values or {}), **values}, self.context)

    def __str__(self) -> str:
        return self.in_language(current_language())

    def __html__(self) -> str:
        from markupsafe import escape

        return str(escape(str(self)))

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __repr__(self) -> str:
        return f"_({self.msgid!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Text):
            return (self.msgid, self.context, self.values) == (
                other.msgid,
                other.context,
                other.values,
            )
        return str(self) == other if isinstance(other, str) else NotImplemented

    def __hash__(self) -> int:
        return hash((self.msgid, self.context))

    def __add__(self, other: object) -> str:
        return str(self) + str(other)

    def __radd__(self, other: object) -> str:
        return str(other) + str(self)


def _resolved(value: object, language: str) -> object:
    return value.in_language(language) if isinstance(value, Text) else value


def _(msgid: str, **values: object) -> Text:
    """Mark interface text: an English message with ``%(name)s`` placeholders, filled from
    ``values``; translated when shown."""
    return Text(msgid, values)


def pgettext(context: str, msgid: str, **values: object) -> Text:
    """Like ``_()``, for a short message whose meaning depends on where it is used."""
    return Text(msgid, values, context)


def text_in(text: str | Text, language: str) -> str:
    """A message (or plain text, which has no translation) in ``language``."""
    return text.in_language(language) if isinstance(text, Text) else text


def translation(language: str, msgid: str, context: str | None = None) -> str:
    """The translation of a msgid; the msgid itself when the catalogue has none."""
    key = f"{context}{CONTEXT_SEPARATOR}{msgid}" if context else msgid
    return catalogue(language).get(key) or msgid


@cache
def catalogue(language: str) -> dict[str, str]:
    """Translations by msgid (``context\\x04msgid`` with a context) for one language: from the
    compiled ``.mo`` when it is current, else from the ``.po`` itself."""
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    po, mo = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as handle:
            compiled: Any = stdlib_gettext.GNUTranslations(handle)
        return {str(k): str(v) for k, v in compiled._catalog.items() if k and v}
    if not po.exists():
        return {}
    return read_po_translations(po)


def read_po_translations(path: Path) -> dict[str, str]:
    """Translations of a ``.po`` file that are done (not fuzzy, not empty)."""
    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        catalog = read_po(handle)
    found: dict[str, str] = {}
    for message in catalog:
        if not message.id or not message.string or message.fuzzy:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        string = message.string if isinstance(message.string, str) else message.string[0]
        key = f"{message.context}{CONTEXT_SEPARATOR}{msgid}" if message.context else msgid
        found[key] = string
    return found


def gettext(message: str) -> str:
    """Translate now, in the current language (for Jinja2's i18n extension)."""
    return translation(current_language(), message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate now, singular or plural by ``n`` (Chinese has one form)."""
    return translation(current_language(), singular if n == 1 else plural)


def context_gettext(context: str, message: str) -> str:
    """Translate now, with a message context (for Jinja2's ``pgettext``)."""
    return translation(current_language(), message, context)


def context_ngettext(context: str, singular: str, plural: str, n: int) -> str:
    """Translate now, with a context, singular or plural by ``n``."""
    return translation(current_language(), singular if n == 1 else plural, context)


LIST_SEPARATOR = pgettext("list separator", ", ")


SENTENCE_SEPARATOR = pgettext("sentence separator", "; ")


class _Listing(Text):
    """Items joined with a separator that is itself translated."""

    __slots__ = ("items", "separator")

    def __init__(self, items: Iterable[object], separator: Text) -> None:
        super().__init__(", ")
        self.items = list(items)
        self.separator = separator

    def in_language(self, language: str) -> str:
        separator = self.separator.in_language(language)
        return separator.join(str(_resolved(item, language)) for item in self.items)


def listing(items: Iterable[object], separator: Text = LIST_SEPARATOR) -> Text:
    """A list for a message's placeholder: ``a、b、c`` in Chinese, ``a, b, c`` in English
    (or joined with another separator, such as ``SENTENCE_SEPARATOR``)."""
    return _Listing(items, separator)


def lines(items: Iterable[object]) -> Text:
    """Items one per line, for a message's placeholder (each translated alike)."""
    return _Listing(items, _NEWLINE)


class _Same(Text):
    """Text that reads the same in every language."""

    def in_language(self, language: str) -> str:
        return self.msgid


_NEWLINE = _Same("\n")


@cache
def _number_symbols(language: str) -> tuple[str, str]:
    """The thousands separator and decimal sign a language writes numbers with."""
    from babel import Locale

    symbols = Locale.parse(language).number_symbols["latn"]
    return symbols["group"], symbols["decimal"]


def number(value: float | None, digits: int = 0, language: str | None = None) -> str:
    """A figure for people to read, its thousands grouped as the language writes them
    (``1,973,600`` in Chinese and in English), with ``digits`` decimals; — for none."""
    if value is None:
        return "—"
    group, decimal = _number_symbols(known(language or current_language()))
    return f"{value:,.{digits}f}".translate({ord(","): group, ord("."): decimal})


def percent(value: float | None, digits: int = 0, language: str | None = None) -> str:
    """A share (0.123) as people read it (``12%``); — for none."""
    return "—" if value is None else number(value * 100, digits, language) + "%"
