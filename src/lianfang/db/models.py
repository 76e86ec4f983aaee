"""Every table, imported in one place so that migrations and tests see the whole schema."""

from lianfang.alerts.models import Alert, AlertEvent, AlertThreshold
from lianfang.areas.models import Area, AreaBoundary, AreaPopulation
from lianfang.auth.models import ApiToken, AuditEvent, User, UserSession
from lianfang.briefing.models import BriefingSnapshot
from lianfang.db.base import Base
from lianfang.demo.models import DemoWorld
from lianfang.dispatch.models import Directive, Task, TaskComment, TaskEvidence
from lianfang.duty.models import DutyHandover, DutyShift
from lianfang.forecast.models import ForecastAdoption, ForecastRun
from lianfang.jobs import JobLease
from lianfang.notify.models import Delivery, Notification, NotifyChannel
from lianfang.people.models import (
    CoverageCell,
    ExportJob,
    FollowUp,
    GradeChange,
    ImportReport,
    Person,
    PersonChange,
    Responsible,
    UnmatchedHospital,
)
from lianfang.resources.models import (
    CapacityReport,
    Facility,
    FacilityOperator,
    Institution,
    Item,
    Pairing,
    ReserveTarget,
    StaffMove,
    StaffStrength,
    StockBalance,
    StockMovement,
)

metadata = Base.metadata

__all__ = [
    "Alert",
    "AlertEvent",
    "AlertThreshold",
    "ApiToken",
    "Area",
    "AreaBoundary",
    "AreaPopulation",
    "AuditEvent",
    "BriefingSnapshot",
    "CapacityReport",
    "CoverageCell",
    "Delivery",
    "DemoWorld",
    "Directive",
    "DutyHandover",
    "DutyShift",
    "ExportJob",
    "Facility",
    "FacilityOperator",
    "FollowUp",
    "ForecastAdoption",
    "ForecastRun",
    "GradeChange",
    "ImportReport",
    "Institution",
    "Item",
    "JobLease",
    "Notification",
    "NotifyChannel",
    "Pairing",
    "Person",
    "PersonChange",
    "ReserveTarget",
    "Responsible",
    "StaffMove",
    "StaffStrength",
    "StockBalance",
    "StockMovement",
    "Task",
    "TaskComment",
    "TaskEvidence",
    "UnmatchedHospital",
    "User",
    "UserSession",
    "metadata",
]
