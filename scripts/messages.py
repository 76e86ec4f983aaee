"""Extract interface text from code and templates into the catalogues (`make messages`).

Every ``_()``/``pgettext()`` in ``src/lianfang`` (Python and Jinja2 templates, as babel.cfg says)
becomes a msgid in each ``src/lianfang/locale/<language>/LC_MESSAGES/messages.po``. Translations
already made are kept (a message no longer used stays at the end as obsolete, ``#~``, so none is
lost); new English entries are filled with their msgid (English is the source language); new
Chinese entries are left empty for you to translate (tests/test_messages.py fails until you do).
Entries are sorted by msgid without source locations, so two changes that add messages rarely
touch the same lines. Then the ``.mo`` files are compiled (they are not committed).

    python scripts/messages.py            # extract, update, compile
    python scripts/messages.py --compile  # compile only (what the package build does)
"""

from __future__ import annotations

import argparse
import sys
from configparser import RawConfigParser
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "lianfang"
LOCALE = PACKAGE / "locale"
CONFIG = ROOT / "babel.cfg"
LANGUAGES = ("zh", "en")
HEADER = "Interface text of lianfang. Update with `make messages`; see docs/development.md."


def method_map() -> tuple[list[tuple[str, str]], dict[str, dict[str, str]]]:
    """The extraction methods and their options, from babel.cfg (paths relative to the root)."""
    parser = RawConfigParser()
    parser.read(CONFIG, encoding="utf-8")
    methods: list[tuple[str, str]] = []
    options: dict[str, dict[str, str]] = {}
    for section in parser.sections():
        method, _, pattern = section.partition(":")
        pattern = pattern.strip()
        methods.append((pattern, method.strip()))
        options[pattern] = dict(parser.items(section))
    return methods, options


def extract() -> Catalog:
    """Every message used in the code and templates."""
    methods, options = method_map()
    template = Catalog(project="lianfang", fuzzy=False)
    for path, lineno, message, comments, context in extract_from_dir(
        ROOT, methods, options, strip_comment_tags=True
    ):
        template.add(message, None, [(path, lineno)], auto_comments=comments, context=context)
    return template


def po_path(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / "messages.po"


def read(language: str) -> Catalog:
    """The catalogue of a language as it stands (an empty one the first time)."""
    path = po_path(language)
    if not path.exists():
        return Catalog(locale=language, project="lianfang", fuzzy=False)
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


def write(language: str, catalog: Catalog) -> None:
    path = po_path(language)
    path.parent.mkdir(parents=True, exist_ok=True)
    catalog.header_comment = f"# {HEADER}"
    with path.open("wb") as handle:
        write_po(handle, catalog, width=0, no_location=True, sort_output=True)


def update(template: Catalog) -> None:
    """Bring every catalogue in line with the messages the code uses."""
    for language in LANGUAGES:
        catalog = read(language)
        catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
        if language == "en":
            for message in catalog:
                if message.id and not message.string:
                    message.string = message.id
        write(language, catalog)


def compile_all() -> None:
    """Write each ``.mo`` next to its ``.po``."""
    for language in LANGUAGES:
        path = po_path(language)
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        with path.with_suffix(".mo").open("wb") as handle:
            write_mo(handle, catalog)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compile", action="store_true", help="only compile the .mo files")
    args = parser.parse_args(argv)
    if not args.compile:
        update(extract())
    compile_all()
    missing = [
        m.id for m in read("zh") if m.id and (not m.string or m.fuzzy)
    ]  # shown so the translator knows what is left
    for msgid in missing:
        print(f"untranslated (zh): {msgid}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
