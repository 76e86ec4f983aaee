"""Importing a people sheet: every row checked, then all written or nothing.

Rows are matched to stored people by ID number wherever they were registered. A new ID creates a
person; a row that differs from the stored person updates it and records what changed (and the
grade change, if any); an identical row changes nothing. A column the file lacks leaves the stored
values alone, and so does a blank cell: only a cell saying 「清空」 (or CLEAR) empties a stored
value, and the result (a dry run's too) lists every stored value a file empties.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.auth import audit
from lianfang.auth.choices import AuditAction, Permission
from lianfang.auth.scope import Actor
from lianfang.columns import Coded, grouped, objects
from lianfang.db.base import join_choices
from lianfang.db.bulk import bulk_cache, insert_columns, rebuilds_indexes
from lianfang.errors import ImportRowError
from lianfang.i18n import _
from lianfang.io.sheets import Table, failed
from lianfang.memory import gc_paused
from lianfang.people import checks, coverage, hospitals, records
from lianfang.people.choices import (
    ChangeSource,
    Condition,
    DiseaseState,
    Grade,
    Living,
    ResponsibleKind,
    Sex,
)  # fmt: skip
from lianfang.people.models import (
    GradeChange,
    Person,
    PersonChange,
    Responsible,
    UnmatchedHospital,
    encode_conditions,
)
from lianfang.people.records import INPUT_KEYS, Override
from lianfang.people.sheet import CONDITION_KEY, Checker, Parsed, parse

CHUNK = 5000
PLAIN = (str, int, float, bool)  # types a driver takes as they are (not their subclasses)
LONG_FILE = 50_000
RESPONSIBLE_KEYS = ("responsible", "responsible_kind", "responsible_phone")
DEFAULTS: dict[str, Any] = {
    "phone": "", "address": "", "living": Living.with_family, "conditions": {},
    "vaccine_doses": 0, "last_dose_on": None, "arrived_on": None, "groups": frozenset(),
    "followup_opt_in": False, "responsible_id": None, "kit_grade": None, "kit_on": None,
    "hospital_id": None,
}  # fmt: skip


@dataclass(frozen=True)
class Cleared:
    """A stored value that a cell saying 「清空」 empties: where, whose, which column."""

    row: int
    person_id: int
    key: str
    column: str


@dataclass
class ImportResult:
    """What an import did (or, for a dry run, would do)."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    responsibles_created: int = 0
    dry_run: bool = False
    villages: set[str] = field(default_factory=set)
    cleared: list[Cleared] = field(default_factory=list)


class Keep:
    """The value of a blank cell on a re-import: the stored value stays."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP = Keep()


@dataclass
class Stored:
    """A stored person as an import compares it."""

    id: int
    area_code: str
    inputs: dict[str, Any]
    registered_on: date
    last_contact_at: Any
    override: Override | None
    grade: Grade


def import_table(
    *, session: Session, actor: Actor, table: Table, dry_run: bool = False,
    source: ChangeSource = ChangeSource.sheet, area: str | None = None,
) -> ImportResult:  # fmt: skip
    """Check every row of a people table, then write all of it or nothing. A village given by
    name is looked up in ``area`` (within scope), else in the actor's whole scope."""
    actor.require(Permission.people_edit)
    with gc_paused():
        return _import(session, actor, table, dry_run, source, area)


def _import(
    session: Session, actor: Actor, table: Table, dry_run: bool, source: ChangeSource,
    area: str | None,
) -> ImportResult:  # fmt: skip
    parsed, errors = parse(table)
    check = Checker(table)
    check.errors = errors
    checks.areas(session, actor, check, parsed, area)
    checks.designated_hospitals(session, check, parsed)
    stored = _stored(session, parsed.values["id_number"])
    checks.cells_together(check, parsed, _stored_kits(parsed, stored))
    _check_scope_of_stored(actor, check, parsed, stored)
    if check.errors:
        raise failed(table, sorted(check.errors, key=lambda e: e.row))
    result = ImportResult(rows=len(table), dry_run=dry_run)
    result.cleared = _cleared(table, parsed, stored)
    responsibles = _responsibles(session, parsed, dry_run, result)
    plan = _plan(session, parsed, stored, responsibles, result)
    if dry_run:
        return result
    with bulk_cache(session, result.created + result.updated):
        created = _write(session, actor, plan, source, result)
    _settle_unmatched(session, plan)
    _audit(session, actor, plan, created, source)
    if source in SUMMARISED:
        audit.record(
            session=session, actor=actor, action=AuditAction.load, entity_type="person",
            detail={"file": table.source, "rows": result.rows, "created": result.created,
                    "updated": result.updated, "unchanged": result.unchanged},
        )  # fmt: skip
    return result


def _settle_unmatched(session: Session, plan: Plan) -> None:
    """A person given a designated hospital no longer has an unmatched typed name."""
    settled = [
        old.id for old, values, diff in plan.changed
        if "hospital_id" in diff and values["hospital_id"] is not None
    ]  # fmt: skip
    for chunk in _chunks(settled):
        session.execute(delete(UnmatchedHospital).where(UnmatchedHospital.person_id.in_(chunk)))


SUMMARISED = frozenset({ChangeSource.sheet})
"""Sources whose imports also get one audit row for the whole file (a form or an API call
saves one person, whose own row says it all)."""


def _audit(
    session: Session, actor: Actor, plan: Plan, created: list[tuple[int, str]],
    source: ChangeSource,
) -> None:  # fmt: skip
    """One audit row per person created or changed, naming them."""
    made = {"source": source.value}  # one object: the audit log encodes it once
    entries = [
        audit.Entry(AuditAction.create, "person", str(pid), area, made) for pid, area in created
    ]
    entries += [
        audit.Entry(AuditAction.update, "person", str(old.id), values["area_code"],
                    {"source": source.value, "fields": sorted(diff)})
        for old, values, diff in plan.changed
    ]  # fmt: skip
    audit.record_many(session=session, actor=actor, entries=entries)


def _registered(session: Session, numbers: list[str]) -> list[str]:
    """Which of the numbers are registered: asked in chunks for a short file; for a long one a
    single scan of the ID index is faster than hundreds of IN lists."""
    if len(numbers) < LONG_FILE:
        return sorted(set(numbers))
    stored = set(session.scalars(select(Person.id_number)))
    return sorted(stored.intersection(numbers)) if stored else []


STORED_COLUMNS = (
    Person.id, Person.id_number, Person.registered_on, Person.last_contact_at,
    Person.override_reason, Person.grade, *(getattr(Person, key) for key in INPUT_KEYS),
)  # fmt: skip


def _stored(session: Session, numbers: list[str]) -> dict[str, Stored]:
    """The stored people among these ID numbers, read as rows (not ORM objects: a re-import of
    a whole city reads millions)."""
    out: dict[str, Stored] = {}
    for chunk in _chunks(_registered(session, numbers)):
        query = select(*STORED_COLUMNS).where(Person.id_number.in_(chunk))
        for pid, number, registered, contacted, reason, grade, *inputs in session.execute(query):
            values = dict(zip(INPUT_KEYS, inputs, strict=True))
            out[number] = Stored(
                id=pid, area_code=values["area_code"], inputs=values, registered_on=registered,
                last_contact_at=contacted, grade=grade,
                override=Override(grade, reason or "") if reason is not None else None,
            )  # fmt: skip
    return out


def _stored_kits(parsed: Parsed, stored: dict[str, Stored]) -> dict[int, tuple[Any, Any]]:
    """The stored kit and its date of each row that re-imports a person (when the file has a
    kit column): a blank kit cell keeps them, so the kit check looks at both."""
    if not stored or not {"kit_grade", "kit_on"} & parsed.present:
        return {}
    return {
        index: (found.inputs["kit_grade"], found.inputs["kit_on"])
        for index, number in enumerate(parsed.values["id_number"])
        if (found := stored.get(number)) is not None
    }


def _cleared(table: Table, parsed: Parsed, stored: dict[str, Stored]) -> list[Cleared]:
    """Every stored value that a cell saying 「清空」 empties (a value already empty is not
    counted)."""
    out: list[Cleared] = []
    numbers = parsed.values["id_number"]
    for key, marks in parsed.marks.items() if stored else ():
        if not marks.cleared:
            continue
        column = table.headers[table.keys[key]]
        for index in np.flatnonzero(marks.cleared_rows(parsed.coded(key).rows)).tolist():
            found = stored.get(numbers[index])
            if found is not None and _holds(found.inputs, key):
                out.append(Cleared(table.row_number(index), found.id, key, column))
    return out


def _holds(inputs: dict[str, Any], key: str) -> bool:
    """Whether a stored person has a value (other than the empty one) in a sheet column."""
    if key.startswith(CONDITION_KEY):
        return Condition.of(key.removeprefix(CONDITION_KEY)) in inputs["conditions"]
    stored = inputs[STORED_AS.get(key, key)]
    return stored not in (None, "", frozenset(), DEFAULTS.get(key))


STORED_AS = {"responsible": "responsible_id", "hospital": "hospital_id"}
"""Sheet columns whose value is stored under another key (a name or code made an id)."""

OUTSIDE_SCOPE = _(
    "this ID number is already registered in another area; ask your superior's administrator"
)
"""What a user is told of a person registered outside their scope: that the number is taken and
whom to ask, never where (an answer naming the place would tell anyone with a list of numbers
where each person lives)."""


def _check_scope_of_stored(
    actor: Actor, check: Checker, parsed: Parsed, stored: dict[str, Stored]
) -> None:
    for index, number in enumerate(parsed.values["id_number"] if stored else ()):
        found = stored.get(number)
        if found is not None and not actor.reaches(found.area_code):
            check.add(index, "id_number", OUTSIDE_SCOPE)


def _responsibles(
    session: Session, parsed: Parsed, dry_run: bool, result: ImportResult
) -> dict[tuple[str, str, str], int | None]:
    if "responsible" not in parsed.present:
        return {}
    size = len(parsed.values["id_number"])
    kinds = parsed.values.get("responsible_kind", [ResponsibleKind.village_doctor] * size)
    phones = parsed.values.get("responsible_phone", [""] * size)
    named = zip(parsed.values["area_code"], parsed.values["responsible"], phones, strict=True)
    wanted = {key: kind for key, kind in dict(zip(named, kinds, strict=True)).items() if key[1]}
    known: dict[tuple[str, str, str], int | None] = {}
    for chunk in _chunks(sorted({key[0] for key in wanted})):
        for r in session.scalars(select(Responsible).where(Responsible.area_code.in_(chunk))):
            known[(r.area_code, r.name, r.phone)] = r.id
    fresh = [key for key in wanted if key not in known]
    result.responsibles_created = len(fresh)
    if not dry_run:
        made = {
            key: Responsible(area_code=key[0], name=key[1], phone=key[2], kind=wanted[key])
            for key in fresh
        }
        session.add_all(made.values())
        session.flush()  # one flush gives every new responsible person its id
        known |= {key: responsible.id for key, responsible in made.items()}
    return known


@dataclass
class Plan:
    """The rows to insert (column by column) and update, and the history to record."""

    new: dict[str, Column] = field(default_factory=dict)
    changed: list[tuple[Stored, dict[str, Any], dict[str, list[Any]]]] = field(default_factory=list)


def _input_columns(parsed: Parsed, responsibles: dict[Any, Any]) -> dict[str, Column]:
    """The file's input columns by ``INPUT_KEYS`` key; ``conditions`` holds the conditions the
    row names (one shared map per distinct combination of cells)."""
    values = parsed.values
    columns: dict[str, Column] = {
        k: parsed.codes.get(k) or values[k]
        for k in INPUT_KEYS
        if k in parsed.present and k in values
    }  # fmt: skip
    named = [k for k in parsed.present if k.startswith(CONDITION_KEY)]
    if named:
        rows, maps = _combined(parsed, named)
        for index, row in enumerate(maps.tolist()):
            maps[index] = {
                Condition.of(k.removeprefix(CONDITION_KEY)): _at(parsed.coded(k), row)
                for k in named
                if _at(parsed.coded(k), row) is not DiseaseState.none
            }
        columns["conditions"] = maps[rows].tolist()  # one shared map per combination
        parsed.codes["conditions"] = Coded(rows, maps)
    if "responsible" in parsed.present:
        phones = values.get("responsible_phone") or [""] * len(values["responsible"])
        named_by = zip(values["area_code"], values["responsible"], phones, strict=True)
        columns["responsible_id"] = list(map(responsibles.get, named_by))  # blank names: None
    return columns


def _kept_columns(parsed: Parsed, columns: dict[str, Column]) -> dict[str, Column]:
    """The input columns as a re-import applies them: a blank cell reads ``KEEP`` (the stored
    value stays); ``conditions`` holds, per row, the conditions whose cells are not blank."""
    kept: dict[str, Column] = {}
    for key, column in columns.items():
        if key == "conditions":
            kept[key] = _condition_patches(parsed)
        elif key == "responsible_id":
            blank = _blank_rows(parsed, "responsible")
            ids = np.array(column, dtype=object)
            ids[blank] = KEEP
            kept[key] = ids.tolist()
        elif isinstance(column, Coded):
            kept[key] = _kept(parsed, key, column)
        else:
            kept[key] = [KEEP if v == "" else v for v in column] if "" in column else column
    return kept


def _blank_rows(parsed: Parsed, key: str) -> npt.NDArray[np.bool_]:
    marks = parsed.marks.get(key)
    if marks is None:
        return np.array([v == "" for v in parsed.values[key]], dtype=bool)
    return marks.blank_rows(parsed.coded(key).rows)


def _condition_patches(parsed: Parsed) -> Coded:
    """Per row, the state of each condition whose cell is not blank (``none`` removes it)."""
    named = [k for k in parsed.present if k.startswith(CONDITION_KEY)]
    cells = {k: _kept(parsed, k, parsed.coded(k)) for k in named}
    groups = grouped(list(cells.values()), len(parsed.values["id_number"]))
    patches = objects([
        {
            Condition.of(k.removeprefix(CONDITION_KEY)): state
            for k, coded in cells.items()
            if (state := _at(coded, row)) is not KEEP
        }
        for row in groups.first.tolist()
    ])  # fmt: skip
    return Coded(groups.rows, patches)


def _kept(parsed: Parsed, key: str, column: Coded) -> Coded:
    """A coded column whose blank cells read ``KEEP``."""
    marks = parsed.marks.get("hospital" if key == "hospital_id" else key)
    if marks is None or marks.blank is None:
        return column
    values = column.values.copy()
    values[marks.blank] = KEEP
    return Coded(column.rows, values)


def _inputs(columns: dict[str, Column], index: int, base: dict[str, Any]) -> dict[str, Any]:
    """A stored person's inputs with the file's row over them: blank cells keep the stored
    values; of the conditions, those with a cell in the row are the row's, the others stay."""
    inputs = dict(base)
    for key, column in columns.items():
        value = _at(column, index)
        if value is not KEEP:
            inputs[key] = value
    if "conditions" in columns:
        patch = inputs["conditions"]
        conditions = {c: s for c, s in base["conditions"].items() if c not in patch}
        conditions.update({c: s for c, s in patch.items() if s is not DiseaseState.none})
        inputs["conditions"] = conditions
    return inputs


def _plan(
    session: Session, parsed: Parsed, stored: dict[str, Stored], responsibles: dict[Any, Any],
    result: ImportResult,
) -> Plan:  # fmt: skip
    plan = Plan()
    today = timeutil.today()
    columns = _input_columns(parsed, responsibles)
    named = parsed.codes["hospital_id"].values.tolist() if "hospital_id" in parsed.codes else []
    held = [found.inputs["hospital_id"] for found in stored.values()]
    deriver = records.Deriver(today, hospitals.facts(session, [*named, *held]))
    kept = _kept_columns(parsed, columns) if stored else {}
    numbers = parsed.values["id_number"]
    fresh = [] if stored else list(range(len(numbers)))
    for index, number in enumerate(numbers if stored else ()):
        old = stored.get(number)
        if old is None:
            fresh.append(index)
            continue
        inputs = _inputs(kept, index, old.inputs)
        diff = {k: [old.inputs[k], v] for k, v in inputs.items() if old.inputs[k] != v}
        if not diff:
            result.unchanged += 1
            continue
        derived = deriver.derive(
            inputs, id_number=number, registered_on=old.registered_on,
            last_contact_at=old.last_contact_at, override=old.override,
        )  # fmt: skip
        plan.changed.append((old, {"id": old.id} | inputs | derived, diff))
        result.villages |= {old.area_code, inputs["area_code"]}
    if not rebuilds_indexes(session, Person.__table__, len(fresh)):  # type: ignore[arg-type]
        fresh = _by_id(parsed, fresh)  # else the ID index is made after the load, in one sort
    plan.new = _new_columns(parsed, columns, fresh, deriver)
    villages = plan.new["area_code"]
    result.villages |= set(villages.values if isinstance(villages, Coded) else villages)
    result.created, result.updated = len(fresh), len(plan.changed)
    return plan


def _combined(parsed: Parsed, keys: list[str]) -> tuple[npt.NDArray[np.intp], npt.NDArray[Any]]:
    """Rows grouped by their combination of values in some columns: each row's group, and the
    first row of each group."""
    groups = grouped([parsed.coded(k) for k in keys], len(parsed.values["id_number"]))
    return groups.rows, objects(groups.first.tolist())


Column = list[Any] | Coded


def _by_id(parsed: Parsed, rows: list[int]) -> list[int]:
    """Rows in the order of their ID numbers: inserted so, the ID index grows at its end
    instead of at random places (which, past the page cache, costs a read per row)."""
    assert parsed.ids is not None
    chosen = np.asarray(rows, dtype=np.intp)
    return chosen[np.argsort(parsed.ids.order[chosen], kind="stable")].tolist()  # type: ignore[no-any-return]


def _new_columns(
    parsed: Parsed, columns: dict[str, Column], fresh: list[int], deriver: records.Deriver
) -> dict[str, Column]:
    """The columns of the people to create, derived columns included: the grade and guarantee
    columns are derived once per group of rows that share every input they depend on."""
    today, chosen = deriver.today, np.array(fresh, dtype=np.intp)
    every = fresh == list(range(len(parsed.values["id_number"])))  # the file's rows, in order
    out: dict[str, Column] = {
        "id_number": _taken(parsed.values["id_number"], chosen),
        "registered_on": Coded.constant(today, len(fresh)),
    }  # fmt: skip
    for key in INPUT_KEYS:
        if key not in columns:
            out[key] = Coded.constant(DEFAULTS[key], len(fresh))
        elif key in parsed.codes:
            out[key] = parsed.codes[key] if every else parsed.codes[key].taken(chosen)
        else:
            column = columns[key]
            assert isinstance(column, list)  # the coded ones are in parsed.codes
            out[key] = list(column) if every else _taken(column, chosen)
    ids = parsed.ids
    assert ids is not None
    born = ids.born[chosen]
    days, day_rows = np.unique(born, return_inverse=True)  # some 13,000 days for a city
    out["birth_date"] = Coded(
        day_rows.ravel().astype(np.intp), objects(np.datetime_as_string(days).tolist())
    )
    out["sex"] = Coded(ids.male[chosen].astype(np.intp), objects([Sex.female, Sex.male]))
    ages = records.ages_on(born, today)
    classes = records.age_class_codes(ages)
    inputs = [Coded(classes.astype(np.intp), objects(range(int(classes.max(initial=0)) + 1)))]
    for name in ("conditions", "vaccine_doses", "followup_opt_in", "kit_grade", "hospital_id"):
        column = out[name]
        inputs.append(column if isinstance(column, Coded) else Coded.of(column))
    groups = grouped(inputs, len(fresh))
    first = groups.first
    graded = [
        deriver.graded_row(
            _at(out["id_number"], i), _at(out["conditions"], i), _at(out["vaccine_doses"], i),
            _at(out["followup_opt_in"], i), _at(out["kit_grade"], i), _at(out["hospital_id"], i),
            today, None, None, age=int(ages[i]),
        )
        for i in first.tolist()
    ]  # fmt: skip
    for name in graded[0] if graded else ():
        out[name] = Coded(groups.rows, objects([g[name] for g in graded]))
    return out


def _taken(values: list[Any], chosen: npt.NDArray[np.intp]) -> list[Any]:
    return list(map(values.__getitem__, chosen.tolist()))


def _at(column: Column, index: int) -> Any:
    return column.values[column.rows[index]] if isinstance(column, Coded) else column[index]


def _plain(value: Any) -> Any:
    if isinstance(value, frozenset):
        return join_choices(value)
    if isinstance(value, dict):
        return encode_conditions(value)
    if isinstance(value, StrEnum):
        return value.value  # drivers take plain text
    return value


def _plain_column(column: Column) -> Column:
    """A column as plain values; each distinct value (set, choice, conditions map) is encoded
    once."""
    if isinstance(column, Coded):
        plain = set(map(type, column.values.tolist())) <= set(PLAIN)
        return column if plain else column.mapped(_plain)
    sample = next((v for v in column if v is not None), None)
    if sample is None or type(sample) in PLAIN:
        return column
    return Coded.of(column).mapped(_plain)


def _write(
    session: Session, actor: Actor, plan: Plan, source: ChangeSource, result: ImportResult
) -> list[tuple[int, str]]:
    """Insert and update; return the id and village of every person created."""
    now = timeutil.now()
    created: list[tuple[int, str]] = []
    if result.created:
        columns = {k: _plain_column(v) for k, v in plan.new.items()}
        columns["created_at"] = columns["updated_at"] = Coded.constant(now, result.created)
        before = session.scalar(select(func.max(Person.id))) or 0
        insert_columns(session, Person.__table__, columns)  # type: ignore[arg-type]
        created = [
            (pid, area)
            for pid, area in session.execute(
                select(Person.id, Person.area_code)
                .where(Person.id > before, Person.created_at == now)  # not a concurrent load's
                .order_by(Person.id)
            )
        ]
    changed: set[str] = set()
    if plan.changed:
        session.execute(
            update(Person), [values | {"updated_at": now} for _, values, _ in plan.changed]
        )
        _history(session, actor, plan, source, now)
        changed = {
            v for old, values, _ in plan.changed for v in (old.area_code, values["area_code"])
        }
    counts = _new_states(plan.new) if result.created else {}
    coverage.add(session=session, counts={s: n for s, n in counts.items() if s[0] not in changed})
    coverage.refresh(session=session, villages=changed)
    return created


def _new_states(new: dict[str, Column]) -> dict[coverage.State, int]:
    """New people counted by village and roll-up state (none has been contacted yet)."""
    keys = ("area_code", "grade", "responsible_id", "due_on", "medicine_ok", "treatment_ok")
    coded: dict[str, Coded] = {}
    for key in keys:
        column = new[key]
        coded[key] = column if isinstance(column, Coded) else Coded.of(column)
    someone = coded["responsible_id"]
    coded["responsible_id"] = Coded(  # only whether there is one matters
        np.array([v is not None for v in someone.values], np.intp)[someone.rows],
        objects([False, True]),
    )
    groups = grouped(list(coded.values()), coded["area_code"].size)
    states: Counter[coverage.State] = Counter()  # codes may repeat a value: groups can meet
    for row, size in zip(groups.first.tolist(), groups.sizes.tolist(), strict=True):
        area, grade, in_charge, due, medicine, treatment = (_at(coded[k], row) for k in keys)
        states[(area, grade, in_charge, False, due, medicine, treatment)] += size
    return states


def _history(session: Session, actor: Actor, plan: Plan, source: ChangeSource, now: Any) -> None:
    for old, values, diff in plan.changed:
        session.add(PersonChange(
            person_id=old.id, area_code=values["area_code"], changed_at=now,
            username=actor.username, source=source,
            changes=json.dumps({k: [_shown(a), _shown(b)] for k, (a, b) in diff.items()},
                               ensure_ascii=False),
        ))  # fmt: skip
        if values["grade"] is not old.grade:
            session.add(GradeChange(
                person_id=old.id, area_code=values["area_code"], changed_at=now,
                username=actor.username, from_grade=old.grade, to_grade=values["grade"],
                method=values["grade_method"], reason=_grading_reason(values),
            ))  # fmt: skip
    session.flush()


def _grading_reason(values: dict[str, Any]) -> str:
    return f"资料变更后重新定级（{values['grade_method'].zh}）"


def _shown(value: Any) -> Any:
    plain = _plain(value)
    return plain.isoformat() if hasattr(plain, "isoformat") else plain


def _chunks(items: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


__all__ = ["ImportResult", "ImportRowError", "import_table"]
