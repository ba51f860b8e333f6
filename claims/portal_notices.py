"""Requests that apps above claims show the claimant on the portal's front page (filing: "sign the 선정서"),
registered from their AppConfig.ready() so claims never imports them: a function of the claimant giving the
notices to show now (text, link, link label and a test id)."""

from collections.abc import Callable
from dataclasses import dataclass

from accounts.models import User


@dataclass(frozen=True)
class PortalNotice:
    text: str
    url: str
    action: str
    key: str


NoticeSource = Callable[..., list[PortalNotice]]  # source(*, user: User) -> list[PortalNotice]
_SOURCES: list[NoticeSource] = []


def portal_notice_source_register(source: NoticeSource) -> None:
    if source not in _SOURCES:
        _SOURCES.append(source)


def portal_notices(*, user: User) -> list[PortalNotice]:
    return [notice for source in _SOURCES for notice in source(user=user)]
