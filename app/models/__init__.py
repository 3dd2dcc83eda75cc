"""The data model: typed SQLAlchemy 2 models on PostGIS (geometries in EPSG:4326)."""

from app.models.alerts import JobAlert
from app.models.company import (
    Company,
    CompanyApprenticeship,
    CompanyStatus,
    FamilyCertificate,
    company_family_criteria,
    company_occupations,
    company_sectors,
    size_class_for,
)
from app.models.events import (
    ATTENDANCE_MODES,
    EVENT_KINDS,
    ORGANISATION_KINDS,
    TARGET_GROUPS,
    Event,
    EventRegistration,
    EventStatus,
    Organisation,
    RegistrationStatus,
    event_companies,
)
from app.models.layers import LayerFeature
from app.models.places import Municipality, PostalCode
from app.models.questionnaire import (
    ChangeRequest,
    ConsentRecord,
    GeocodeCache,
    OutboxMessage,
    QuestionnaireDraft,
)
from app.models.staff import (
    ROLE_PERMISSIONS,
    AuditEntry,
    ImportUpload,
    LoginFailure,
    Permission,
    RecoveryCode,
    StaffRole,
    StaffUser,
)
from app.models.taxonomy import FamilyCriterion, KldbArea, KldbGroup, WzDivision, WzSection

__all__ = [
    "ATTENDANCE_MODES",
    "EVENT_KINDS",
    "ORGANISATION_KINDS",
    "ROLE_PERMISSIONS",
    "TARGET_GROUPS",
    "AuditEntry",
    "ChangeRequest",
    "Company",
    "CompanyApprenticeship",
    "CompanyStatus",
    "ConsentRecord",
    "Event",
    "EventRegistration",
    "EventStatus",
    "FamilyCertificate",
    "FamilyCriterion",
    "GeocodeCache",
    "ImportUpload",
    "JobAlert",
    "KldbArea",
    "KldbGroup",
    "LayerFeature",
    "LoginFailure",
    "Municipality",
    "Organisation",
    "OutboxMessage",
    "Permission",
    "PostalCode",
    "QuestionnaireDraft",
    "RecoveryCode",
    "RegistrationStatus",
    "StaffRole",
    "StaffUser",
    "WzDivision",
    "WzSection",
    "company_family_criteria",
    "company_occupations",
    "company_sectors",
    "event_companies",
    "size_class_for",
]
