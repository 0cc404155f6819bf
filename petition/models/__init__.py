"""Every model, importable from one place so Alembic and the app see the same metadata."""

from petition.models.audit import ExportRecord, ModerationRecord
from petition.models.base import Base
from petition.models.blocklist import BlockedSender, BlockKind
from petition.models.counts import Milestone, SignatureActivity, SignatureCount
from petition.models.organiser import LoginFailure, Membership, Organiser, OrganiserSession, Role
from petition.models.outbox import MailKind, MailStatus, OutboxMessage
from petition.models.paper import PaperEntry, PaperKind
from petition.models.partner import Partner, PartnerOrigin, PartnerPetition
from petition.models.petition import CountryTarget, Petition, PetitionRevision, PetitionStatus, RuleSet
from petition.models.signature import FlagReason, Signature, SignatureStatus, SignatureSubmission
from petition.models.translation import PetitionTranslation
from petition.models.update import (
    Audience,
    CampaignUpdate,
    DeliveryStatus,
    UpdateDelivery,
    UpdateEvent,
    UpdateProgress,
    UpdateStatus,
    UpdateTranslation,
)

__all__ = [
    "Audience",
    "Base",
    "BlockKind",
    "BlockedSender",
    "CampaignUpdate",
    "CountryTarget",
    "DeliveryStatus",
    "ExportRecord",
    "FlagReason",
    "LoginFailure",
    "MailKind",
    "MailStatus",
    "Membership",
    "Milestone",
    "ModerationRecord",
    "Organiser",
    "OrganiserSession",
    "OutboxMessage",
    "PaperEntry",
    "PaperKind",
    "Partner",
    "PartnerOrigin",
    "PartnerPetition",
    "Petition",
    "PetitionRevision",
    "PetitionStatus",
    "PetitionTranslation",
    "Role",
    "RuleSet",
    "Signature",
    "SignatureActivity",
    "SignatureCount",
    "SignatureStatus",
    "SignatureSubmission",
    "UpdateDelivery",
    "UpdateEvent",
    "UpdateProgress",
    "UpdateStatus",
    "UpdateTranslation",
]
