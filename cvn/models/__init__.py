"""SQLAlchemy models, one module per aggregate."""
from cvn.models.alerts import AlertSent, AlertSubscription, JobLock
from cvn.models.base import Base
from cvn.models.carnet import Access, AuditEvent, Carnet, Dose, DoseRevision, DoseState, Sex
from cvn.models.sharing import (MAX_ATTEMPTS, Archive, Invitation, InvitationChannel, InvitationState,
                                InvitationTarget, Ownership)
from cvn.models.outbox import OutboxMessage, OutboxStatus
from cvn.models.token import AuthToken, TokenPurpose
from cvn.models.credentials import EmailCode, Passkey, RecoveryCode, TotpCredential
from cvn.models.session import RememberedDevice, WebSession
from cvn.models.user import Profession, Role, User

__all__ = [
    "AlertSent", "AlertSubscription", "JobLock",
    "MAX_ATTEMPTS", "Archive", "Invitation", "InvitationChannel", "InvitationState", "InvitationTarget", "Ownership",
    "Access", "AuditEvent", "Carnet", "Dose", "DoseRevision", "DoseState", "Sex",
    "AuthToken", "Base", "OutboxMessage", "OutboxStatus", "Profession", "Role",
    "TokenPurpose", "User",
    "EmailCode", "Passkey", "RecoveryCode", "TotpCredential", "RememberedDevice", "WebSession",
]
