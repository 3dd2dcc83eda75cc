"""The data model: typed SQLAlchemy 2 models on PostGIS (geometries in EPSG:4326)."""

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
from app.models.layers import LayerFeature
from app.models.places import Municipality, PostalCode
from app.models.questionnaire import (
    ChangeRequest,
    ConsentRecord,
    GeocodeCache,
    OutboxMessage,
    QuestionnaireDraft,
)
from app.models.staff import AuditEntry, ImportUpload, LoginFailure, StaffRole, StaffUser
from app.models.taxonomy import FamilyCriterion, KldbArea, KldbGroup, WzDivision, WzSection

__all__ = [
    "AuditEntry",
    "ChangeRequest",
    "Company",
    "CompanyApprenticeship",
    "CompanyStatus",
    "ConsentRecord",
    "FamilyCertificate",
    "FamilyCriterion",
    "GeocodeCache",
    "ImportUpload",
    "KldbArea",
    "KldbGroup",
    "LayerFeature",
    "LoginFailure",
    "Municipality",
    "OutboxMessage",
    "PostalCode",
    "QuestionnaireDraft",
    "StaffRole",
    "StaffUser",
    "WzDivision",
    "WzSection",
    "company_family_criteria",
    "company_occupations",
    "company_sectors",
    "size_class_for",
]
