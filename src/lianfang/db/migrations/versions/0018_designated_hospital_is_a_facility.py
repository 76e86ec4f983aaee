"""a person's designated hospital is a facility; kits come from the stock ledger

`person.hospital` (free text) and `person.hospital_capabilities` (typed per person) give way to
`person.hospital_id`, a reference to a facility, judged on the facility's own capabilities and
status. Each text is matched to a hospital or health centre by name as written, then by name
normalised (full-width folded, spaces and punctuation and 省市县区镇乡 dropped); a text that
matches none, or several, is kept in `unmatched_hospital` with the reason, and counted in a log
line, so nothing is dropped silently. Existing kits become the opening kit (`kit_opening`),
beside which the ledger's kit issues count. Every person's 有医治 flag is judged again (the rule
changed: the grade alone no longer asks for intensive care) and the coverage roll-up rebuilt.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

import logging
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

import lianfang.db.base
from lianfang import timeutil

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

DESIGNATED = ("tertiary_hospital", "secondary_hospital", "township_centre", "community_centre")
CHILD_AGE = 14
NEEDS = {"kidney": "dialysis", "pregnancy": "obstetrics"}
_PUNCTUATION = re.compile(r"[\s()（）\[\]【】<>《》·.,，、。:：;；'\"“”‘’-]+")
_ADMINISTRATIVE = re.compile(r"[省市县区镇乡]")


def normalise(name: str) -> str:
    """As ``lianfang.people.hospitals.normalise`` on the day of this migration."""
    folded = unicodedata.normalize("NFKC", name)
    return _ADMINISTRATIVE.sub("", _PUNCTUATION.sub("", folded))


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def upgrade() -> None:
    op.create_table(
        "unmatched_hospital",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("area_code", sa.String(length=12), nullable=False),
        sa.Column("text", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_at", lianfang.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_unmatched_hospital_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_unmatched_hospital")),
    )
    with op.batch_alter_table("unmatched_hospital", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_unmatched_hospital_area_code"), ["area_code"], unique=False
        )
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kit_opening", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("kit_opening_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("hospital_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_person_hospital_id"), ["hospital_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_person_hospital_id_facility"), "facility", ["hospital_id"], ["id"],
            ondelete="SET NULL",
        )  # fmt: skip
    _link()
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("hospital_capabilities")
        batch_op.drop_column("hospital")


def _link() -> None:
    bind = op.get_bind()
    bind.execute(sa.text("UPDATE person SET kit_opening = kit_grade, kit_opening_on = kit_on"))
    facilities = bind.execute(
        sa.text("SELECT id, code, name, capabilities, status FROM facility WHERE type IN "
                "('tertiary_hospital', 'secondary_hospital', 'township_centre', "
                "'community_centre')")
    ).all()  # fmt: skip
    by_name: dict[str, list[tuple[int, str]]] = defaultdict(list)
    by_norm: dict[str, list[tuple[int, str]]] = defaultdict(list)
    can: dict[int, set[str]] = {}
    for fid, code, name, capabilities, status in facilities:
        by_name[name].append((fid, code))
        by_norm[normalise(name)].append((fid, code))
        can[fid] = set(filter(None, (capabilities or "").split(","))) if status == "open" else set()
    texts = [
        row[0]
        for row in bind.execute(
            sa.text("SELECT DISTINCT hospital FROM person WHERE hospital <> ''")
        )
    ]
    chosen: dict[str, int] = {}
    reasons: dict[str, str] = {}
    for text in texts:
        found = by_name.get(text.strip()) or by_norm.get(normalise(text)) or []
        if len(found) == 1:
            chosen[text] = found[0][0]
        elif found:
            codes = "、".join(code for _fid, code in sorted(found))
            reasons[text] = f"多个机构同名 / several facilities bear this name: {codes}"[:200]
        else:
            reasons[text] = "没有同名的医院或卫生院 / no hospital or health centre of that name"
    for text, fid in chosen.items():
        bind.execute(
            sa.text("UPDATE person SET hospital_id = :fid WHERE hospital = :text"),
            {"fid": fid, "text": text},
        )
    now = timeutil.utcnow()
    unmatched = Counter[str]()
    for text, reason in reasons.items():
        result = bind.execute(
            sa.text("INSERT INTO unmatched_hospital (person_id, area_code, text, reason, "
                    "created_at) SELECT id, area_code, hospital, :reason, :now FROM person "
                    "WHERE hospital = :text").bindparams(
                sa.bindparam("now", type_=lianfang.db.base.UTCDateTime(timezone=True))
            ),
            {"reason": reason, "now": now, "text": text},
        )  # fmt: skip
        unmatched[text] = result.rowcount
    linked = bind.execute(
        sa.text("SELECT count(*) FROM person WHERE hospital_id IS NOT NULL")
    ).scalar_one()
    log.info(
        "designated hospitals: %s people linked to a facility, %s unmatched (%s)",
        linked, sum(unmatched.values()),
        "; ".join(f"{t}: {n}" for t, n in unmatched.most_common(20)) or "none",
    )  # fmt: skip
    _judge(bind, can)


def _judge(bind: sa.Connection, can: dict[int, set[str]]) -> None:
    """Every person's 有医治 flag by the new rule, then the coverage roll-up rebuilt."""
    today = timeutil.today()  # ages on the day the schema changes
    rows = bind.execute(
        sa.text("SELECT id, conditions, birth_date, hospital_id, treatment_ok FROM person")
    ).all()
    flips: dict[bool, list[int]] = {True: [], False: []}
    for pid, conditions, born, hospital_id, was in rows:
        born_on = born if isinstance(born, date) else date.fromisoformat(str(born))
        needed = {"general"}
        for item in filter(None, (conditions or "").split(",")):
            if item.split(":")[0] in NEEDS:
                needed.add(NEEDS[item.split(":")[0]])
        if _age(born_on, today) < CHILD_AGE:
            needed.add("paediatrics")
        ok = hospital_id is not None and needed <= can.get(hospital_id, set())
        if bool(was) != ok:
            flips[ok].append(pid)
    for flag, ids in flips.items():
        for start in range(0, len(ids), 5000):
            bind.execute(
                sa.text("UPDATE person SET treatment_ok = :flag WHERE id IN :ids").bindparams(
                    sa.bindparam("ids", expanding=True)
                ),
                {"flag": flag, "ids": ids[start : start + 5000]},
            )
    bind.execute(sa.text("DELETE FROM coverage_cell"))
    bind.execute(
        sa.text(
            "INSERT INTO coverage_cell (area_code, grade, in_charge, contacted, due_on, "
            "medicine_ok, treatment_ok, persons) SELECT area_code, grade, "
            "responsible_id IS NOT NULL, last_contact_at IS NOT NULL, due_on, medicine_ok, "
            "treatment_ok, count(*) FROM person GROUP BY area_code, grade, "
            "responsible_id IS NOT NULL, last_contact_at IS NOT NULL, due_on, medicine_ok, "
            "treatment_ok"
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("hospital", sa.String(length=100), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column(
                "hospital_capabilities", sa.String(length=100), nullable=False, server_default=""
            )
        )
    bind = op.get_bind()
    bind.execute(
        sa.text(
            "UPDATE person SET hospital = (SELECT name FROM facility WHERE facility.id = "
            "person.hospital_id), hospital_capabilities = (SELECT capabilities FROM facility "
            "WHERE facility.id = person.hospital_id) WHERE hospital_id IS NOT NULL"
        )
    )
    bind.execute(
        sa.text(
            "UPDATE person SET hospital = (SELECT text FROM unmatched_hospital u WHERE "
            "u.person_id = person.id) WHERE id IN (SELECT person_id FROM unmatched_hospital)"
        )
    )
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.alter_column("hospital", server_default=None)
        batch_op.alter_column("hospital_capabilities", server_default=None)
        batch_op.drop_constraint(batch_op.f("fk_person_hospital_id_facility"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_person_hospital_id"))
        batch_op.drop_column("hospital_id")
        batch_op.drop_column("kit_opening_on")
        batch_op.drop_column("kit_opening")
    with op.batch_alter_table("unmatched_hospital", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unmatched_hospital_area_code"))
    op.drop_table("unmatched_hospital")
