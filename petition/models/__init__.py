"""Every model, importable from one place so Alembic and the app see the same metadata."""

from petition.models.base import Base
from petition.models.counts import Milestone, SignatureCount
from petition.models.organiser import Membership, Organiser, Role
from petition.models.outbox import MailKind, MailStatus, OutboxMessage
from petition.models.petition import CountryTarget, Petition, PetitionStatus, RuleSet
from petition.models.signature import Signature, SignatureStatus
from petition.models.translation import PetitionTranslation

__all__ = [
    "Base",
    "CountryTarget",
    "MailKind",
    "MailStatus",
    "Membership",
    "Milestone",
    "Organiser",
    "OutboxMessage",
    "Petition",
    "PetitionStatus",
    "PetitionTranslation",
    "Role",
    "RuleSet",
    "Signature",
    "SignatureCount",
    "SignatureStatus",
]
