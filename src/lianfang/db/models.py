"""Every table, imported in one place so that migrations and tests see the whole schema."""

from lianfang.areas.models import Area, AreaBoundary, AreaPopulation
from lianfang.auth.models import ApiToken, AuditEvent, User, UserSession
from lianfang.db.base import Base
from lianfang.demo.models import DemoWorld
from lianfang.dispatch.models import Directive, JobLease, Task, TaskComment, TaskEvidence
from lianfang.forecast.models import ForecastAdoption, ForecastRun
from lianfang.people.models import (
    CoverageCell,
    ExportJob,
    FollowUp,
    GradeChange,
    ImportReport,
    Person,
    PersonChange,
    ReferralAlert,
    Responsible,
)

metadata = Base.metadata

__all__ = [
    "ApiToken",
    "Area",
    "AreaBoundary",
    "AreaPopulation",
    "AuditEvent",
    "CoverageCell",
    "DemoWorld",
    "Directive",
    "ExportJob",
    "FollowUp",
    "ForecastAdoption",
    "ForecastRun",
    "GradeChange",
    "ImportReport",
    "JobLease",
    "Person",
    "PersonChange",
    "ReferralAlert",
    "Responsible",
    "Task",
    "TaskComment",
    "TaskEvidence",
    "User",
    "UserSession",
    "metadata",
]
