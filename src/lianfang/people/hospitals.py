"""A person's designated hospital (定点医院) is a facility of the resources register: finding one
by code or name, reading what 有医治 is judged on (its capabilities and status), and judging
again the people of a facility whose capabilities or status changed."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.i18n import Text, _, listing
from lianfang.people import coverage, guarantees, identity
from lianfang.people.choices import Capability
from lianfang.people.models import Person
from lianfang.resources.choices import HOSPITALS, FacilityStatus
from lianfang.resources.models import Facility

DESIGNATED_TYPES = HOSPITALS
"""Facility types a person may be designated to: tertiary and county (secondary) hospitals,
township and community health centres — the places that admit patients."""

_PUNCTUATION = re.compile(r"[\s()（）\[\]【】<>《》·.,，、。:：;；'\"“”‘’-]+")
_ADMINISTRATIVE = re.compile(r"[省市县区镇乡]")


def normalise(name: str) -> str:
    """A hospital's name as matched when it is not written exactly: full-width forms folded
    (NFKC), spaces and punctuation removed, and the administrative characters 省市县区镇乡
    dropped, so 如东人民医院, 如东县人民医院 and 如东县 人民医院 are one name."""
    folded = unicodedata.normalize("NFKC", name)
    return _ADMINISTRATIVE.sub("", _PUNCTUATION.sub("", folded))


def capabilities_of(place: Facility) -> frozenset[Capability]:
    """What a facility can do, in the words a person's needs are written in."""
    known = {c.value for c in Capability}
    return frozenset(Capability.of(c.value) for c in place.capabilities if c.value in known)


def hospital_of(place: Facility) -> guarantees.Hospital:
    """What 有医治 reads of a facility."""
    return guarantees.Hospital(
        id=place.id, name=place.name, capabilities=capabilities_of(place),
        usable=place.status is FacilityStatus.open, status=place.status.text,
    )  # fmt: skip


def facts(session: Session, ids: Iterable[int | None]) -> dict[int, guarantees.Hospital]:
    """The hospitals with these ids (None and unknown ids left out)."""
    wanted = sorted({i for i in ids if i is not None})
    out: dict[int, guarantees.Hospital] = {}
    if len(wanted) == 1:  # one person's page or row: the session's copy, when it has one
        place = session.get(Facility, wanted[0])
        return {place.id: hospital_of(place)} if place is not None else {}
    for start in range(0, len(wanted), 5000):
        chunk = wanted[start : start + 5000]
        for place in session.scalars(select(Facility).where(Facility.id.in_(chunk))):
            out[place.id] = hospital_of(place)
    return out


def resolve(session: Session, texts: Iterable[str]) -> dict[str, int | Text]:
    """Each text (a facility code or a hospital's name) as a facility id, or the reason it names
    none: a code first, then a name as written, then a name normalised; a name several
    facilities bear names them (by code). Only designated types (hospitals, health centres)."""
    wanted = {t.strip() for t in texts if t.strip()}
    if not wanted:
        return {}
    rows = session.execute(
        select(Facility.id, Facility.code, Facility.name).where(Facility.type.in_(DESIGNATED_TYPES))
    ).all()
    by_code = {code: fid for fid, code, _name in rows}
    by_name: dict[str, list[tuple[int, str]]] = defaultdict(list)
    by_norm: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for fid, code, name in rows:
        by_name[name].append((fid, code))
        by_norm[normalise(name)].append((fid, code))
    out: dict[str, int | Text] = {}
    for text in wanted:
        if text in by_code:
            out[text] = by_code[text]
            continue
        found = by_name.get(text) or by_norm.get(normalise(text)) or []
        if len(found) == 1:
            out[text] = found[0][0]
        elif found:
            out[text] = _(
                "several hospitals are called '%(name)s': write one of their codes (%(codes)s)",
                name=text, codes=listing(code for _fid, code in sorted(found)),
            )  # fmt: skip
        else:
            out[text] = _(
                "no hospital or health centre with the code or name '%(name)s'", name=text
            )
    return out


def rejudge(session: Session, facility_ids: Iterable[int], today: date | None = None) -> int:
    """Judge 有医治 again for the people designated to these facilities (after a change of
    their capabilities or status) and refresh the coverage of their villages; return how many
    people's flag changed."""
    ids = sorted(set(facility_ids))
    if not ids:
        return 0
    day = today or timeutil.today()
    hospitals = facts(session, ids)
    changed: set[str] = set()
    count = 0
    for person in session.scalars(select(Person).where(Person.hospital_id.in_(ids))):
        flag = treatment_flag(person, hospitals, day)
        if flag != person.treatment_ok:
            person.treatment_ok = flag
            changed.add(person.area_code)
            count += 1
    if changed:
        session.flush()
        coverage.refresh(session=session, villages=changed)
    return count


def treatment_flag(
    person: Person, hospitals: Mapping[int, guarantees.Hospital], today: date
) -> bool:
    """The stored 有医治 flag of a person from their designated hospital as it is now."""
    needed = guarantees.needed_capabilities(
        person.conditions, identity.age_on(person.birth_date, today)
    )
    hospital = hospitals.get(person.hospital_id) if person.hospital_id is not None else None
    return guarantees.treatment_ok(hospital, needed)
