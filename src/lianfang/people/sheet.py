"""The people sheet: its columns, and how its cells become typed values and back.

``parse`` checks a whole table column by column (a cell value seen before is not parsed again,
which keeps city-scale files fast) and returns every problem with its row and column.
``to_cells`` writes a person as the same cells, so an unmasked export imports back unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from lianfang import timeutil
from lianfang.choices import Choice
from lianfang.columns import Coded
from lianfang.errors import ImportRowError
from lianfang.i18n import Text, _, listing, pgettext
from lianfang.io.sheets import CLEAR_WORDS, Column, SheetSpec, Table, row_error
from lianfang.people import identity
from lianfang.people.choices import (
    Condition,
    DiseaseState,
    Grade,
    Living,
    ResponsibleKind,
    Sex,
    TrackedGroup,
)

C = TypeVar("C", bound=Choice)
YES, NO = "是", "否"
CONDITION_KEY = "condition_"
MAX_DOSES = 6
LIST_SEPARATORS = re.compile(r"[、,，;；/\s]+")
DATE_FORMS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日")


def _labels(choice: type[Choice]) -> tuple[str, ...]:
    return tuple(m.zh for m in choice)


def _several(choice: type[Choice]) -> Text:
    return _(
        "several allowed, separated by commas: %(choices)s",
        choices=listing(m.text for m in choice),
    )


CONDITION_COLUMNS = tuple(
    Column(
        CONDITION_KEY + c.value,
        c.text,
        choices=_labels(DiseaseState),
        width=8,
        note=_("none / stable / unstable (blank means none)"),
    )
    for c in Condition
)

SPEC = SheetSpec(
    "重点人群",
    (
        Column("name", pgettext("people sheet", "name"), required=True, width=10),
        Column(
            "id_number",
            pgettext("people sheet", "ID number"),
            required=True,
            width=20,
            note=_("18-character resident ID number; the last may be X"),
        ),
        Column(
            "sex",
            pgettext("people sheet", "sex"),
            choices=_labels(Sex),
            width=6,
            note=_("may be blank; must agree with the ID number"),
        ),
        Column(
            "birth_date",
            pgettext("people sheet", "birth date"),
            width=12,
            note=_("may be blank; must agree with the ID number (a masked export leaves it out)"),
        ),
        Column("age", pgettext("people sheet", "age"), export_only=True, width=6),
        Column(
            "phone",
            pgettext("people sheet", "phone"),
            width=14,
            note=_("a mobile number, or a landline with its area code"),
        ),
        Column(
            "area_code",
            pgettext("people sheet", "village code"),
            required=True,
            width=14,
            note=_(
                "12-digit village (community) statistical code, or the village's name where no "
                "other village of your area bears it (see the sheet of villages)"
            ),
        ),
        Column("village", pgettext("people sheet", "village"), export_only=True, width=12),
        Column("address", pgettext("people sheet", "address"), width=24),
        Column(
            "living",
            pgettext("people sheet", "living situation"),
            choices=_labels(Living),
            width=10,
        ),
        *CONDITION_COLUMNS,
        Column(
            "vaccine_doses",
            pgettext("people sheet", "vaccine doses"),
            width=8,
            note=_("a whole number 0–6"),
        ),
        Column("last_dose_on", pgettext("people sheet", "last dose date"), width=12),
        Column(
            "arrived_on",
            pgettext("people sheet", "arrival from abroad"),
            width=12,
            note=_("for people arriving (returning) from abroad"),
        ),
        Column(
            "groups",
            pgettext("people sheet", "other tracked groups"),
            width=16,
            note=_several(TrackedGroup),
        ),
        Column(
            "followup_opt_in",
            pgettext("people sheet", "green opted in to follow-up"),
            choices=(YES, NO),
            width=8,
        ),
        Column("responsible", pgettext("people sheet", "responsible person"), width=10),
        Column(
            "responsible_kind",
            pgettext("people sheet", "responsible kind"),
            choices=_labels(ResponsibleKind),
            width=10,
        ),
        Column("responsible_phone", pgettext("people sheet", "responsible phone"), width=14),
        Column(
            "kit_grade",
            pgettext("people sheet", "kit"),
            choices=(Grade.red.zh, Grade.yellow.zh),
            width=8,
            note=_(
                "filled by issuing a kit from a clinic's stock (the person page); an import "
                "leaves it blank or as exported"
            ),
        ),
        Column("kit_on", pgettext("people sheet", "kit delivered on"), width=12),
        Column(
            "hospital",
            pgettext("people sheet", "designated hospital"),
            width=18,
            note=_("a hospital or health centre of the register, by its code or its name"),
        ),
        Column(
            "hospital_capabilities",
            pgettext("people sheet", "hospital capabilities"),
            export_only=True,
            width=18,
        ),
        Column("grade", pgettext("people sheet", "risk grade"), export_only=True, width=8),
        Column("grade_method", pgettext("people sheet", "graded by"), export_only=True, width=8),
        Column(
            "last_contact", pgettext("people sheet", "last contact"), export_only=True, width=16
        ),
        Column("due_on", pgettext("people sheet", "next check-in due"), export_only=True, width=12),
        Column(
            "in_charge", pgettext("people sheet", "someone in charge"), export_only=True, width=6
        ),
        Column("checked_on", pgettext("people sheet", "checked on"), export_only=True, width=6),
        Column("medicine", pgettext("people sheet", "medicine on hand"), export_only=True, width=6),
        Column(
            "treatment", pgettext("people sheet", "place to be treated"), export_only=True, width=6
        ),
    ),
)


class Bad(Exception):
    """A cell that cannot be read, and why."""

    def __init__(self, text: Text) -> None:
        super().__init__(text.in_language("en"))
        self.text = text


@dataclass(frozen=True)
class ResponsibleRef:
    """A responsible person as named in a sheet."""

    name: str
    kind: ResponsibleKind
    phone: str


class Columns(dict[str, list[Any]]):
    """Typed columns by key, each a list of one value per row; a column parsed as codes is
    expanded into its list the first time it is read (a first load of a city's people writes
    most columns straight from their codes, and never needs their lists)."""

    def __init__(self, codes: dict[str, Coded]) -> None:
        super().__init__()
        self.codes = codes

    def __missing__(self, key: str) -> list[Any]:
        coded = self.codes.get(key)
        if coded is None:
            raise KeyError(key)
        expanded = self[key] = coded.expanded()
        return expanded

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or key in self.codes

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self else default  # noqa: SIM401 (expands a coded column)


@dataclass
class Parsed:
    """The typed columns of a checked table (each list one value per row), and which columns the
    file held: a column it lacks leaves the stored value alone on update. ``codes`` holds the
    columns parsed value by value as indices into their distinct values (``values`` expands
    them when asked), and ``ids`` what the ID numbers say, so derivation can work on whole
    columns."""

    present: frozenset[str]
    codes: dict[str, Coded] = field(default_factory=dict)
    values: Columns = field(init=False)
    ids: identity.IdColumn | None = None
    marks: dict[str, Marks] = field(default_factory=dict)  # blank and 「清空」 cells, by key

    def __post_init__(self) -> None:
        self.values = Columns(self.codes)

    def coded(self, key: str) -> Coded:
        """A column as codes (computed from its values the first time if parsing had none)."""
        found = self.codes.get(key)
        if found is None:
            found = self.codes[key] = Coded.of(self.values[key])
        return found


@dataclass(frozen=True)
class Marks:
    """Which of a coded column's distinct values came from a blank cell and which from a cell
    saying 「清空」 (both read as the blank value; on a re-import they differ: a blank keeps
    the stored value, 「清空」 clears it)."""

    blank: int | None
    cleared: tuple[int, ...]

    def blank_rows(self, rows: npt.NDArray[np.intp]) -> npt.NDArray[np.bool_]:
        """Which rows were blank."""
        return np.zeros(len(rows), bool) if self.blank is None else rows == self.blank

    def cleared_rows(self, rows: npt.NDArray[np.intp]) -> npt.NDArray[np.bool_]:
        """Which rows said 「清空」."""
        return np.isin(rows, self.cleared)


def parse_choice(choice: type[C], raw: str) -> C:
    """A choice from its Chinese label, English label or stored value."""
    text = raw.strip()
    for member in choice:
        if text in (member.zh, member.value) or text.lower() == member.en.lower():
            return member
    raise Bad(
        _(
            "'%(text)s' is not one of %(choices)s",
            text=text,
            choices=listing(m.text for m in choice),
        )
    )


def parse_choices(choice: type[C], raw: str) -> frozenset[C]:
    """A set of choices written with separators (顿号, commas)."""
    return frozenset(parse_choice(choice, part) for part in LIST_SEPARATORS.split(raw) if part)


def parse_date(raw: str) -> date:
    """A date written in one of the usual forms, not in the future."""
    text = raw.strip().split(" ")[0].split("T")[0]
    for form in DATE_FORMS:
        try:
            day = datetime.strptime(text, form).date()  # noqa: DTZ007 (a calendar date)
        except ValueError:
            continue
        if day > timeutil.today():
            raise Bad(_("%(day)s is in the future", day=day))
        return day
    raise Bad(_("'%(raw)s' is not a date (e.g. 2023-01-05)", raw=raw))


def parse_birth_date(raw: str) -> date:
    """A birth date: a date, not in the future and not before ``identity.EARLIEST_BIRTH``."""
    born = parse_date(raw)
    problem = identity.birth_problem(born)
    if problem:
        raise Bad(problem)
    return born


def _text(limit: int) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if len(raw) > limit:
            raise Bad(_("longer than %(limit)s characters", limit=limit))
        return raw

    return parse


def _phone(raw: str) -> str:
    phone = identity.normalise_phone(raw)
    if identity.is_masked(phone):
        raise Bad(
            _("the phone is masked; export unmasked to re-import"),
        )
    if not identity.phone_ok(phone):
        raise Bad(_("'%(raw)s' is not a mobile or landline number", raw=raw))
    return phone


def _doses(raw: str) -> int:
    if not raw.isdigit() or int(raw) > MAX_DOSES:
        raise Bad(_("'%(raw)s' must be a whole number 0–%(most)s", raw=raw, most=MAX_DOSES))
    return int(raw)


def _yes_no(raw: str) -> bool:
    if raw in (YES, "Y", "y", "yes", "1", "true"):
        return True
    if raw in (NO, "N", "n", "no", "0", "false"):
        return False
    raise Bad(_("'%(raw)s' must be 是 (yes) or 否 (no)", raw=raw))


def _kit(raw: str) -> Grade:
    kit = parse_choice(Grade, raw)
    if kit is Grade.green:
        raise Bad(_("there is no kit for green"))
    return kit


TEXT_LIMITS = {"name": 50, "address": 200, "responsible": 50, "hospital": 100}  # characters
CELL_PARSERS: dict[str, tuple[Callable[[str], Any], Any]] = {
    # key: (parse a non-blank cell, value of a blank cell)
    "name": (_text(TEXT_LIMITS["name"]), None),
    "sex": (lambda raw: parse_choice(Sex, raw), None),
    "birth_date": (parse_birth_date, None),
    "phone": (_phone, ""),
    "address": (_text(TEXT_LIMITS["address"]), ""),
    "living": (lambda raw: parse_choice(Living, raw), Living.with_family),
    "vaccine_doses": (_doses, 0),
    "last_dose_on": (parse_date, None),
    "arrived_on": (parse_date, None),
    "groups": (lambda raw: parse_choices(TrackedGroup, raw), frozenset()),
    "followup_opt_in": (_yes_no, False),
    "responsible": (_text(TEXT_LIMITS["responsible"]), ""),
    "responsible_kind": (
        lambda raw: parse_choice(ResponsibleKind, raw),
        ResponsibleKind.village_doctor,
    ),
    "responsible_phone": (_phone, ""),
    "kit_grade": (_kit, None),
    "kit_on": (parse_date, None),
    "hospital": (_text(TEXT_LIMITS["hospital"]), ""),
} | {
    CONDITION_KEY + c.value: (lambda raw: parse_choice(DiseaseState, raw), DiseaseState.none)
    for c in Condition
}
REQUIRED = {"name"}


def _lengths_within(least: int, most: int) -> Callable[[pa.Array], npt.NDArray[np.bool_]]:
    def fast(cells: pa.Array) -> npt.NDArray[np.bool_]:
        lengths = pc.utf8_length(cells).to_numpy(zero_copy_only=False)
        return np.asarray((lengths >= least) & (lengths <= most), dtype=bool)

    return fast


MOSTLY_DISTINCT = frozenset({"phone"})
"""Columns whose cells nearly all differ (a person's own phone): checked whole by their fast
path first, since finding their distinct cells costs more than it saves (0.34 s of 1.75M)."""
FAST_PATHS: dict[str, Callable[[pa.Array], npt.NDArray[np.bool_]]] = {
    # key: which cells are certainly valid as written, their value the text itself; checked
    # column-wise in C so that columns of mostly distinct cells (names, phones) are not parsed
    # cell by cell. Every other cell goes through the column's parser.
    **{key: _lengths_within(int(key in REQUIRED), limit) for key, limit in TEXT_LIMITS.items()},
    "phone": identity.canonical_phones,
    "responsible_phone": identity.canonical_phones,
}  # fmt: skip


class Checker:
    """Collects the problems of one table."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.errors: list[ImportRowError] = list(table.problems)  # rows the file itself broke
        self.marks: dict[str, Marks] = {}

    def add(self, index: int, key: str, problem: Text) -> None:
        """Record a problem in a row's cell."""
        self.errors.append(row_error(self.table, SPEC, index, key, problem))

    def column(self, key: str, cells: pa.Array) -> Coded | list[Any]:
        """Parse a column, each distinct cell once (or not at all where the column's fast path
        vouches for it as written); problems are recorded at their rows. A column of mostly
        distinct cells that its fast path vouches for whole comes back as its text."""
        parse, blank = CELL_PARSERS[key]
        fast = FAST_PATHS.get(key)
        if key in MOSTLY_DISTINCT and fast is not None and fast(cells).all():
            return cells.to_pylist()  # type: ignore[no-any-return]
        encoded = pc.dictionary_encode(cells)
        texts = encoded.dictionary.to_pylist()
        rows = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.intp)
        distinct = np.array(texts, dtype=object)
        clears = pc.is_in(pc.utf8_upper(encoded.dictionary), pa.array(sorted(CLEAR_WORDS)))
        cleared = np.asarray(clears.to_numpy(zero_copy_only=False), dtype=bool)
        unchecked = np.ones(len(texts), dtype=bool) if fast is None else ~fast(encoded.dictionary)
        problems: dict[int, Text] = {}
        blank_at = pc.index(encoded.dictionary, "").as_py()
        self.marks[key] = Marks(None if blank_at < 0 else blank_at, tuple(np.flatnonzero(cleared)))
        for index in np.flatnonzero(unchecked | cleared).tolist():
            text = texts[index]
            if not text or cleared[index]:
                distinct[index] = blank
                if key in REQUIRED:
                    problems[index] = _("required, cannot be cleared")
                continue
            try:
                distinct[index] = parse(text)
            except Bad as bad:
                distinct[index], problems[index] = blank, bad.text
        if problems:
            wrong = np.zeros(len(texts), dtype=bool)
            wrong[list(problems)] = True
            for at in np.flatnonzero(wrong[rows]).tolist():
                self.add(at, key, problems[int(rows[at])])
        return Coded(rows, distinct)


def _ids(check: Checker, cells: pa.Array) -> tuple[list[str], identity.IdColumn]:
    normal = pc.utf8_upper(pc.replace_substring(cells, " ", ""))  # as identity.normalise_id
    numbers = normal.to_pylist()
    read = identity.read_ids(normal)
    for index in np.flatnonzero(~read.valid).tolist():
        number = numbers[index]
        problem = identity.id_problem(number) or _("the birth date is not real")
        if not number:
            problem = _("required")
        elif identity.is_masked(number):
            problem = _("masked; export unmasked to re-import")
        check.add(index, "id_number", problem)
    keys = np.sort(read.order[read.valid])  # valid numbers are equal when their keys are
    repeated = np.unique(keys[1:][keys[1:] == keys[:-1]])
    if len(repeated):
        first_row: dict[str, int] = {}
        shown = np.isin(read.order, repeated)
        for index in np.flatnonzero(shown).tolist():
            number = numbers[index]
            if number in first_row:
                first = check.table.row_number(first_row[number])
                check.add(index, "id_number", _("repeats row %(first)s", first=first))
            elif read.valid[index]:
                first_row[number] = index
    return numbers, read


def parse(table: Table) -> tuple[Parsed, list[ImportRowError]]:
    """Every importable column of a table as typed values, and every problem found in a cell on
    its own (checks across cells and against the database are the service's)."""
    check = Checker(table)
    parsed = Parsed(frozenset(table.keys))
    ids = table.array("id_number")
    parsed.values["id_number"], parsed.ids = _ids(check, ids if ids is not None else pa.array([]))
    areas = table.array("area_code")
    parsed.values["area_code"] = [] if areas is None else areas.to_pylist()
    for key in CELL_PARSERS:
        cells = table.array(key)
        if cells is not None:
            found = check.column(key, cells)
            if isinstance(found, Coded):
                parsed.codes[key] = found  # its list made when asked for
            else:
                parsed.values[key] = found
    parsed.marks = check.marks
    return parsed, check.errors


def yes_no(value: bool) -> str:
    """A flag as the sheet writes it."""
    return YES if value else NO


def label(value: StrEnum | None) -> str:
    """A choice as the sheet writes it (its Chinese label)."""
    return "" if value is None else value.zh  # type: ignore[attr-defined]


def labels(values: frozenset[Any]) -> str:
    """A set of choices as the sheet writes it."""
    return "、".join(sorted(v.zh for v in values))


def day(value: date | None) -> str:
    """A date as the sheet writes it."""
    return "" if value is None else value.isoformat()
