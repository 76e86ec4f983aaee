"""Enumerations of the key-population registry, each with labels and a colour."""

from __future__ import annotations

import enum

from lianfang.alerts import choices as alert_choices
from lianfang.choices import Choice
from lianfang.i18n import _


class Sex(Choice):
    male = ("male", _("male"))
    female = ("female", _("female"))


class Living(Choice):
    """Living situation."""

    with_family = ("with_family", _("with family"))
    alone = ("alone", _("alone"))
    bedridden = ("bedridden", _("bedridden"))
    nursing_home = ("nursing_home", _("in a nursing home"))


class Condition(Choice):
    """An underlying condition that raises the risk of severe COVID-19."""

    hypertension = ("hypertension", _("hypertension"))
    diabetes = ("diabetes", _("diabetes"))
    coronary = ("coronary", _("coronary heart disease"))
    stroke = ("stroke", _("stroke"))
    copd = ("copd", _("COPD"))
    kidney = ("kidney", _("chronic kidney disease or dialysis"))
    cancer = ("cancer", _("cancer under treatment"))
    immune = ("immune", _("immune deficiency"))
    pregnancy = ("pregnancy", _("pregnancy"))
    disability = ("disability", _("disability"))


class DiseaseState(Choice):
    """The state of one condition, or of all of a person's conditions taken together."""

    none = ("none", _("none"), "#91cc75")
    stable = ("stable", _("stable"), "#fac858")
    unstable = ("unstable", _("unstable"), "#ee6666")


class Vaccination(Choice):
    full = ("full", _("fully vaccinated"), "#91cc75")
    incomplete = ("incomplete", _("incomplete"), "#fac858")
    none = ("none", _("not vaccinated"), "#ee6666")


class Grade(Choice):
    """Risk grade of a key person (红黄绿分级)."""

    red = ("red", _("red"), "#d9363e")
    yellow = ("yellow", _("yellow"), "#e6a23c")
    green = ("green", _("green"), "#3ba272")

    @property
    def followed(self) -> bool:
        """True for the grades that the four guarantees apply to."""
        return self is not Grade.green


class GradeMethod(Choice):
    rule = ("rule", _("rule"))
    score = ("score", _("score"))
    manual = ("manual", _("manual override"), "#ee6666")


class ResponsibleKind(Choice):
    family_doctor = ("family_doctor", _("family doctor"))
    village_doctor = ("village_doctor", _("village doctor"))
    grid_worker = ("grid_worker", _("grid worker"))


class Capability(Choice):
    """What a designated hospital can treat."""

    general = ("general", _("general ward"))
    icu = ("icu", _("intensive care"))
    dialysis = ("dialysis", _("dialysis"))
    obstetrics = ("obstetrics", _("obstetrics"))
    paediatrics = ("paediatrics", _("paediatrics"))


class ContactMethod(Choice):
    phone = ("phone", _("phone"))
    visit = ("visit", _("visit"))
    video = ("video", _("video"))


class Symptom(Choice):
    fever = ("fever", _("fever"))
    cough = ("cough", _("cough"))
    sore_throat = ("sore_throat", _("sore throat"))
    fatigue = ("fatigue", _("fatigue"))
    breathless = ("breathless", _("breathing difficulty"), "#ee6666")
    chest_pain = ("chest_pain", _("chest pain"), "#ee6666")
    confusion = ("confusion", _("confusion"), "#ee6666")
    poor_intake = ("poor_intake", _("poor food intake"))


class AlertReason(Choice):
    low_spo2 = ("low_spo2", _("SpO2 below 93%"), "#d9363e")
    persistent_fever = ("persistent_fever", _("persistent high fever"), "#e6a23c")
    breathless = ("breathless", _("breathing difficulty"), "#d9363e")


AlertStatus = alert_choices.AlertStatus  # the alert engine's (lianfang.alerts)


class Guarantee(Choice):
    """The four guarantees (四有) per red or yellow person."""

    in_charge = ("in_charge", _("someone in charge"))
    checked_on = ("checked_on", _("checked on"))
    medicine = ("medicine", _("medicine on hand"))
    treatment = ("treatment", _("place to be treated"))


class CoverageSort(enum.StrEnum):
    """What a coverage table or ranking is ordered by: the areas' code order, a grade's count,
    a guarantee's missing people (``medicine``) or their share of the red and yellow people
    (``medicine_pct``), overdue check-ins or open alerts."""

    code = "code"
    red = "red"
    yellow = "yellow"
    green = "green"
    followed = "followed"
    in_charge = "in_charge"
    checked_on = "checked_on"
    medicine = "medicine"
    treatment = "treatment"
    in_charge_pct = "in_charge_pct"
    checked_on_pct = "checked_on_pct"
    medicine_pct = "medicine_pct"
    treatment_pct = "treatment_pct"
    overdue = "overdue"
    alerts = "alerts"

    @property
    def guarantee(self) -> Guarantee | None:
        """The guarantee whose gap this orders by, if any."""
        name = self.value.removesuffix("_pct")
        return Guarantee.of(name) if name in Guarantee._value2member_map_ else None

    @property
    def share(self) -> bool:
        """True when it orders by a guarantee's share missing rather than its count."""
        return self.value.endswith("_pct")

    @classmethod
    def of_gap(cls, guarantee: Guarantee, share: bool = False) -> CoverageSort:
        """The key that orders by a guarantee's gap: its count, or its share."""
        return cls(guarantee.value + ("_pct" if share else ""))


class SortOrder(enum.StrEnum):
    """Which way a sorted table runs; left out, figures run largest first."""

    asc = "asc"
    desc = "desc"

    @staticmethod
    def descending(order: SortOrder | None) -> bool | None:
        return None if order is None else order is SortOrder.desc


class ChangeSource(Choice):
    form = ("form", _("form"))
    api = ("api", _("API"))
    sheet = ("sheet", _("sheet import"))
    demo = ("demo", _("demo"))
    ledger = ("ledger", _("stock ledger"))


class TrackedGroup(Choice):
    """A tracked group recorded by hand (65+, pregnancy, living alone, disability and arrival
    from abroad follow from other fields)."""

    left_behind_child = ("left_behind_child", _("left-behind child"))
    veteran = ("veteran", _("veteran"))
    party_member_hardship = ("party_member_hardship", _("elderly Party member in hardship"))
    low_income = ("low_income", _("low income or destitute"))


class ExportStatus(Choice):
    """Where an export made in the background stands."""

    queued = ("queued", _("queued"), "#909399")
    running = ("running", _("running"), "#e6a23c")
    done = ("done", _("ready"), "#67c23a")
    failed = ("failed", _("failed"), "#f56c6c")
