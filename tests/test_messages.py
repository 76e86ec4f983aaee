"""Every message the code and templates use has a Chinese and an English translation, with no
placeholder of its own, and the English interface shows no Chinese interface text."""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from lianfang import i18n
from lianfang.auth.choices import Role
from lianfang.i18n import _, pgettext, use_language
from lianfang.web.language import choose, from_accept_language
from tests.factories import VILLAGE
from tests.web.test_pages import sign_in
from tests.web.test_people_pages import add_people

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import messages  # noqa: E402  (scripts/messages.py, what `make messages` runs)

PLACEHOLDER = re.compile(r"%\((\w+)\)s")
CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")
# English messages that quote Chinese on purpose: what to type (a place, a cell value)
CHINESE_IN_ENGLISH = {
    "Name or code, e.g. 如东 or 320623",
    "'%(raw)s' must be 是 (yes) or 否 (no)",
}


@pytest.fixture(scope="module")
def used() -> Catalog:
    return messages.extract()


def catalogue(language: str) -> Catalog:
    with messages.po_path(language).open("rb") as handle:
        return read_po(handle, locale=language)


def _ids(catalog: Catalog) -> list[tuple[str | None, str]]:
    return [(m.context, m.id) for m in catalog if m.id and isinstance(m.id, str)]


def test_the_extraction_finds_python_and_template_messages(used: Catalog) -> None:
    files = {path for m in used for path, _line in m.locations}
    assert any(f.endswith(".py") for f in files)
    assert any(f.endswith(".html") for f in files)
    assert ("area", "Name") in _ids(used)


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_every_message_used_has_a_translation(used: Catalog, language: str) -> None:
    done = catalogue(language)
    missing = []
    for context, msgid in _ids(used):
        message = done.get(msgid, context)
        if message is None or not message.string or message.fuzzy:
            missing.append(f"{context + ': ' if context else ''}{msgid}")
    assert not missing, (
        f"{len(missing)} message(s) without a {language} translation in "
        f"{messages.po_path(language).relative_to(ROOT)} (run `make messages`, then "
        f"translate):\n" + "\n".join(missing)
    )


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_translations_keep_the_placeholders(language: str) -> None:
    wrong = [
        f"{m.id!r} -> {m.string!r}"
        for m in catalogue(language)
        if m.id and m.string and not _same_placeholders(str(m.id), str(m.string))
    ]
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong)


def _same_placeholders(msgid: str, string: str) -> bool:
    """No placeholder the msgid lacks (a translation may leave a detail out, as the Chinese
    of an encoding error leaves out the decoder's message), and the translation formats
    wherever the msgid does."""
    names = set(PLACEHOLDER.findall(msgid))
    if not set(PLACEHOLDER.findall(string)) <= names:
        return False
    try:
        msgid % dict.fromkeys(names, "x")
    except (ValueError, TypeError):
        return True  # a message never formatted (a literal %, no placeholders)
    try:
        string % dict.fromkeys(names, "x")
    except (ValueError, TypeError):
        return False
    return True


def test_english_translations_hold_no_chinese() -> None:
    chinese = [
        str(m.id)
        for m in catalogue("en")
        if m.id and m.string and CJK.search(str(m.string)) and m.id not in CHINESE_IN_ENGLISH
    ]
    assert not chinese


def test_chinese_translations_are_chinese() -> None:
    untranslated = [
        str(m.id)
        for m in catalogue("zh")
        if m.id and m.string and re.search("[a-z]{3}", str(m.id)) and m.string == m.id
    ]
    assert not untranslated, "copied, not translated:\n" + "\n".join(untranslated)


def test_a_message_is_shown_in_the_current_language() -> None:
    text = _("Page %(page)s of %(pages)s", page=2, pages=5)
    assert text.in_language("zh") == "第 2 / 5 页"
    assert text.in_language("en") == "Page 2 of 5"
    with use_language("en"):
        assert str(text) == "Page 2 of 5"
        assert f"{text}!" == "Page 2 of 5!"
    with use_language("zh"):
        assert str(text) == "第 2 / 5 页"
    assert pgettext("area", "Name").in_language("zh") == "名称"
    assert pgettext("people", "Name").in_language("zh") == "姓名"
    # a message nobody translated yet shows its English rather than failing
    assert _("not a message of lianfang").in_language("zh") == "not a message of lianfang"


def test_the_po_file_is_read_when_no_compiled_catalogue_is_current(tmp_path: Path) -> None:
    source = messages.po_path("zh")
    copied = tmp_path / "messages.po"
    copied.write_bytes(source.read_bytes())
    from_po = i18n.read_po_translations(copied)
    assert from_po["Page %(page)s of %(pages)s"] == "第 %(page)s / %(pages)s 页"
    assert from_po["area\x04Name"] == "名称"


def test_the_language_comes_from_query_cookie_then_accept_language() -> None:
    assert choose("en", "zh", "zh-CN", "zh") == "en"
    assert choose(None, "en", "zh-CN", "zh") == "en"
    assert choose("fr", None, "en-US,en;q=0.9", "zh") == "en"
    assert choose(None, None, "fr, en;q=0.5, zh;q=0.8", "zh") == "zh"
    assert choose(None, None, None, "en") == "en"
    assert from_accept_language("fr-FR, de;q=0.7") is None
    assert from_accept_language("en;q=0, zh-TW;q=0.1") == "zh"


class _Visible(HTMLParser):
    """The text a reader sees (not scripts, styles or the data a page embeds as JSON)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        for name, value in attrs:
            if name in ("title", "placeholder", "aria-label") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    return "\n".join(parser.parts)


KEY_PAGES = [
    "/",
    "/areas/320623000000",
    "/people",
    "/people/coverage",
    "/people/import",
    "/forecast",
    f"/people?area={VILLAGE}",
    "/resources?area=320623101&type=township_centre",
    "/resources/facilities/15/capacity",  # the other resource pages show item and clinic
    # names (data, such as 中药颗粒): tests/web/test_resources_pages.py checks their labels
]


def test_the_english_pages_show_no_chinese_interface_text(
    client: TestClient, session: Session
) -> None:
    person = add_people(session)["周玉兰"]
    chinese = {
        str(m.string)
        for m in catalogue("zh")
        if m.id and m.string and CJK.search(str(m.string)) and len(str(m.string)) >= 2
    }
    sign_in(client, Role.district_operator)
    client.cookies.set("lianfang_lang", "en")
    for path in [*KEY_PAGES, f"/people/{person.id}"]:
        page = client.get(path)
        assert page.status_code == 200, path
        shown = visible_text(page.text)
        leaked = sorted(text for text in chinese if text in shown)
        assert not leaked, f"{path} shows Chinese interface text in English: {leaked}"
    client.cookies.set("lianfang_lang", "zh")
    assert "重点人群台账" in visible_text(client.get("/people/coverage").text)
