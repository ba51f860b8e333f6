"""The outage reference data, copied from the project's research into `incidents.yaml` beside this file.

Loaded into every new database by a data migration and refreshed by `manage.py load_reference_data`;
both go through `reference_data_load`, which is idempotent (update or create by slug). The command writes each
outage window through `claims.services.reference.outage_window_write`, so a changed window gets a revision (with the
file's version as its source) and an unchanged one none; the migrations, which have only historical models, write
the rows directly and `window_history_start` gives every window its revision 1.
"""

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from config.hashing import sha256_hex

REFERENCE_FILE = Path(__file__).with_name("incidents.yaml")
DEFAULT_INCIDENT_SLUG = "pangyo-dc-fire-2022"
DEFAULT_MODEL_NOTE = "기본 모델 (DAMAGE_MODEL.md v1)"

SERVICE_NAMES_EN = {
    "kakaotalk": "KakaoTalk (messages)",
    "kakaotalk-media": "KakaoTalk photo, video and file transfer",
    "kakaotalk-pc": "KakaoTalk for PC (login)",
    "kakao-login": "Kakao Login (sign-in to other services)",
    "kakao-gift": "KakaoTalk Gift",
    "kakao-order": "KakaoTalk Order",
    "kakaotalk-wallet": "KakaoTalk Wallet (certificates)",
    "alimtalk": "AlimTalk (business notifications)",
    "talk-channel": "Kakao Talk Channel",
    "talk-drawer": "Talk Drawer",
    "kakao-mail": "Kakao Mail",
    "daum-mail": "Daum Mail",
    "kakaopay": "KakaoPay",
    "kakao-t": "Kakao T (taxi, designated driver)",
    "kakao-map": "KakaoMap",
    "melon": "Melon",
    "kakao-webtoon": "Kakao Webtoon",
    "kakao-page": "KakaoPage",
    "zigzag": "Zigzag",
    "kakao-games": "Kakao Games",
    "kakao-hairshop": "Kakao Hair Shop",
}
# Whole-service windows of the shorter incidents belong to this service.
WHOLE_INCIDENT_SERVICE = {
    "kakaotalk-2021-05-05": "kakaotalk",
    "kakaotalk-2020-03-17": "kakaotalk",
    "daum-mail-2022-04-21": "daum-mail",
}


# The fields of an outage window that a revision keeps (OutageWindowRevision.FIELDS; repeated here for the
# migrations, which cannot import the model class).
WINDOW_FIELDS = ("start", "partial_end", "end", "end_kind", "confidence", "note", "source_url")


def reference_file_version() -> str:
    """The reference file's version as recorded on a revision: its name and the start of its SHA-256."""
    return f"{REFERENCE_FILE.name} sha256:{sha256_hex(REFERENCE_FILE.read_bytes())[:12]}"


def reference_data_read() -> list[dict[str, Any]]:
    with REFERENCE_FILE.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)["incidents"]


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


WindowWrite = Callable[..., bool]


def reference_data_load(
    *, incident_model, service_model, window_model, window_write: WindowWrite | None = None
) -> dict[str, int]:
    """Create or update every incident, service and outage window. Models are passed in so that a
    migration can use its historical models. Returns how many of each were read, and how many windows were
    created or changed (`revised`).

    `window_write(incident=..., service=..., values=...)`, when given, writes each window instead (and returns
    whether it changed anything): the command passes the service that records a revision."""
    counts = {"incidents": 0, "services": 0, "windows": 0, "revised": 0}
    for row in reference_data_read():
        incident, _created = incident_model.objects.update_or_create(
            slug=row["slug"],
            defaults={
                "name_ko": row["name_ko"],
                "name_en": row.get("name_en", ""),
                "outage_started": _when(row["outage_started"]),
                "outage_ended": _when(row["outage_ended"]),
                "fire_started": _when(row.get("fire_started")),
                "fire_extinguished": _when(row.get("fire_extinguished")),
                "power_restore_began": _when(row.get("power_restore_began")),
                "power_fully_restored": _when(row.get("power_fully_restored")),
                "confidence": row.get("confidence", ""),
                "sources": row.get("sources") or ([row["source"]] if row.get("source") else []),
                "damage_reports_received": row.get("damage_reports_received_by_kakao"),
                "is_default": row["slug"] == DEFAULT_INCIDENT_SLUG,
            },
        )
        counts["incidents"] += 1
        services = row.get("services")
        if services is None:
            slug = WHOLE_INCIDENT_SERVICE[row["slug"]]
            services = [
                {
                    "slug": slug,
                    "end": row["outage_ended"],
                    "end_kind": "exact",
                    "confidence": row.get("confidence", "high"),
                    "source": row["source"],
                }
            ]
        for entry in services:
            service, _created = service_model.objects.get_or_create(
                slug=entry["slug"],
                defaults={
                    "name_ko": entry.get("name_ko", entry["slug"]),
                    "name_en": SERVICE_NAMES_EN.get(entry["slug"], ""),
                },
            )
            if entry.get("name_ko") and service.name_ko != entry["name_ko"]:
                service.name_ko = entry["name_ko"]
                service.save(update_fields=["name_ko"])
            counts["services"] += 1
            values = {
                "start": _when(entry.get("start")),
                "partial_end": _when(entry.get("partial_end")),
                "end": _when(entry["end"]),
                "end_kind": entry["end_kind"],
                "confidence": entry["confidence"],
                "note": entry.get("note", ""),
                "source_url": entry["source"],
            }
            if window_write is not None:
                counts["revised"] += window_write(incident=incident, service=service, values=values)
            else:
                _window, created = window_model.objects.update_or_create(
                    incident=incident, service=service, defaults=values
                )
                counts["revised"] += created
            counts["windows"] += 1
    return counts


def window_history_start(*, window_model, revision_model, actor_label: str = "") -> int:
    """Revision 1 (source "initial": the values the window had when its history started) for every window that
    has no history yet. Returns how many windows got one."""
    windows = list(window_model.objects.filter(revision=0))
    revision_model.objects.bulk_create(
        revision_model(
            window=window,
            number=1,
            source="initial",
            actor_label=actor_label,
            **{name: getattr(window, name) for name in WINDOW_FIELDS},
        )
        for window in windows
    )
    window_model.objects.filter(pk__in=[window.pk for window in windows]).update(revision=1)
    return len(windows)


def reference_data_ensure(*, incident_model, service_model, window_model, version_model, revision_model=None) -> None:
    """Put back what the data migrations write when it is missing (an emptied database, e.g. after a test's
    flush): the reference data with each window's revision 1, and version 1 of the damage model for an incident
    that has none. Never overwrites what staff edited."""
    from claims.damages import DEFAULT_PARAMETERS

    if not incident_model.objects.exists():
        reference_data_load(incident_model=incident_model, service_model=service_model, window_model=window_model)
    if revision_model is not None:
        window_history_start(window_model=window_model, revision_model=revision_model)
    for incident in incident_model.objects.filter(damage_models__isnull=True):
        version_model.objects.create(
            incident=incident,
            version=1,
            parameters=dict(DEFAULT_PARAMETERS),
            note=DEFAULT_MODEL_NOTE,
            activated_at=incident.outage_started,
            is_active=True,
        )
