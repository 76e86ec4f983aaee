"""Enumerations of medical resources, each with a label and a colour."""

from __future__ import annotations

from lianfang.choices import Choice
from lianfang.i18n import _, pgettext


class FacilityType(Choice):
    """What kind of place a facility is."""

    tertiary_hospital = ("tertiary_hospital", _("tertiary hospital"), "#c23531")
    secondary_hospital = ("secondary_hospital", _("county or secondary hospital"), "#d48265")
    township_centre = ("township_centre", _("township health centre"), "#2f4554")
    community_centre = ("community_centre", _("community health centre"), "#61a0a8")
    village_clinic = ("village_clinic", _("village clinic"), "#91c7ae")
    nursing_home = ("nursing_home", _("nursing home"), "#ca8622")
    pharmacy = ("pharmacy", _("pharmacy"), "#749f83")
    fever_clinic = ("fever_clinic", _("fever clinic"), "#ee6666")
    testing_point = ("testing_point", _("testing point"), "#bda29a")
    ambulance_station = ("ambulance_station", _("ambulance station"), "#6e7074")
    warehouse = ("warehouse", _("warehouse"), "#546570")

    @property
    def primary(self) -> bool:
        """A primary-care facility: keeps stock for a share of the population it serves."""
        return self in PRIMARY

    @property
    def hospital(self) -> bool:
        """A hospital that reports beds."""
        return self in HOSPITALS


PRIMARY = frozenset(
    {FacilityType.township_centre, FacilityType.community_centre, FacilityType.village_clinic}
)
HOSPITALS = frozenset(
    {
        FacilityType.tertiary_hospital,
        FacilityType.secondary_hospital,
        FacilityType.township_centre,
        FacilityType.community_centre,
    }
)
PUBLIC_SOURCES = frozenset(
    {
        FacilityType.pharmacy,
        FacilityType.village_clinic,
        FacilityType.township_centre,
        FacilityType.community_centre,
    }
)
"""Where a resident may get medicine: the public lookup shows only these."""


class FacilityStatus(Choice):
    open = ("open", pgettext("facility", "open"), "#3ba272")
    closed = ("closed", pgettext("facility", "closed"), "#909399")
    outbreak = ("outbreak", _("outbreak"), "#d9363e")


class Capability(Choice):
    """What a facility can do. The values shared with ``people.choices.Capability`` (general, icu,
    dialysis, obstetrics, paediatrics) are the same, so a person's designated hospital can later
    be judged on a facility's capabilities."""

    general = ("general", _("general ward"))
    icu = ("icu", _("intensive care"))
    oxygen = ("oxygen", _("oxygen"))
    dialysis = ("dialysis", _("dialysis"))
    obstetrics = ("obstetrics", _("obstetrics"))
    paediatrics = ("paediatrics", _("paediatrics"))
    fever_clinic = ("fever_clinic", _("fever clinic"))


class ItemCategory(Choice):
    antipyretic = ("antipyretic", _("antipyretic"))
    antiviral = ("antiviral", _("antiviral"))
    tcm = ("tcm", _("TCM granules"))
    antigen = ("antigen", _("antigen test"))
    equipment = ("equipment", _("equipment"))
    kit = ("kit", _("kit"))

    @property
    def symptomatic(self) -> bool:
        """Covered by the rural rule: stock for 15–20% of the population served."""
        return self in (ItemCategory.antipyretic, ItemCategory.tcm, ItemCategory.antigen)


class MovementKind(Choice):
    """What a stock movement did. Every movement is final: a mistake is corrected by a
    counter-movement (``correction``) that names the one it reverses."""

    receipt = ("receipt", _("receipt"), "#3ba272")
    issue = ("issue", _("issue"), "#5470c6")
    transfer_out = ("transfer_out", _("transfer out"), "#e6a23c")
    transfer_in = ("transfer_in", _("transfer in"), "#91cc75")
    adjustment = ("adjustment", _("count adjustment"), "#9a60b4")
    correction = ("correction", _("correction"), "#ee6666")


class StaffRole(Choice):
    doctor = ("doctor", pgettext("staff", "doctor"))
    nurse = ("nurse", pgettext("staff", "nurse"))
    technician = ("technician", _("technician"))
    driver = ("driver", _("driver"))
    other = ("other", pgettext("staff", "other"))


class StaffMoveKind(Choice):
    sent_down = ("sent_down", _("sent down to the countryside"))
    reassigned = ("reassigned", _("reassigned"))
