"""The staff audit log: who did what to which record, when and from where.

Services that change something write their entry in the same transaction as the change; reads of personal data
(a claim's detail page, an evidence file) write one entry per view. Entries are never changed or deleted.
`RequestMeta` is where a request came from, passed to services as `meta=`.
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models
from django.http import HttpRequest

from core.models import AuditEntry

USER_AGENT_MAX = 500


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or the entry our own proxies added to X-Forwarded-For."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")


@dataclass(frozen=True)
class RequestMeta:
    """Where an action came from: the client's address and browser."""

    ip: str | None = None
    user_agent: str = ""

    @classmethod
    def from_request(cls, request: HttpRequest) -> "RequestMeta":
        return cls(ip=client_ip(request) or None, user_agent=request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX])


NO_REQUEST = RequestMeta()


def audit_entry(
    *,
    actor: AbstractBaseUser | None,
    action: str,
    target: models.Model,
    meta: RequestMeta = NO_REQUEST,
    claim: models.Model | None = None,
    data: dict | None = None,
) -> AuditEntry:
    """An unsaved audit entry about `target` (its claim is `target` itself when that is a claim), for
    `bulk_create` when one action touches many records."""
    if claim is None and isinstance(target, AuditEntry.claim.field.related_model):
        claim = target
    return AuditEntry(
        actor=actor,
        action=action,
        object_type=target._meta.label_lower,
        object_id=str(target.pk),
        claim=claim,
        data=data or {},
        ip=meta.ip,
        user_agent=meta.user_agent,
    )


def audit_record(
    *,
    actor: AbstractBaseUser | None,
    action: str,
    target: models.Model,
    meta: RequestMeta = NO_REQUEST,
    claim: models.Model | None = None,
    data: dict | None = None,
) -> AuditEntry:
    """Write one audit entry about `target`."""
    entry = audit_entry(actor=actor, action=action, target=target, meta=meta, claim=claim, data=data)
    entry.save()
    return entry
