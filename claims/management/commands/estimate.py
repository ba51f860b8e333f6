"""`manage.py estimate --input claims.json [--model-version N]`: estimate claims described in plain JSON with the
incident's damage model and print the estimates with their breakdowns as JSON. Reads the reference data and the
model versions; writes nothing. The input schema is in docs/estimates.md ("Damage estimates")."""

import json
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from claims.damages import KINDS, LossItemInput, Parameters, estimate
from claims.models import Claim, DamageModelVersion, Incident
from claims.selectors.estimates import IncidentReference, incident_references, inputs_digest

CLAIM_KEYS = {"incident", "claimant_type", "already_compensated", "proof_of_use", "revenue_evidence", "loss_items"}
ITEM_FIGURES = {
    "subscription": ("monthly_fee",),
    "business_revenue": ("comparison_revenue", "outage_revenue"),
    "expense": ("amount",),
    "other": ("amount",),
}
ITEM_KEYS = {"service", "kind", "description", "affected_hours", "has_evidence"} | {
    key for figures in ITEM_FIGURES.values() for key in figures
}


class InputError(Exception):
    """One problem in the input file, with where it is."""


def _amount(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError(
            _("%(where)s: 0 이상의 정수(원)여야 합니다 (받은 값: %(value)r)") % {"where": where, "value": value}
        )
    return value


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise InputError(
            _("%(where)s: true 또는 false여야 합니다 (받은 값: %(value)r)") % {"where": where, "value": value}
        )
    return value


def _hours(value: Any, where: str) -> Decimal | None:
    if value is None:
        return None
    try:
        hours = Decimal(str(value)) if not isinstance(value, bool) else None
    except InvalidOperation:
        hours = None
    if hours is None or not hours.is_finite() or hours < 0:
        raise InputError(
            _("%(where)s: 0 이상의 숫자(시간)여야 합니다 (받은 값: %(value)r)") % {"where": where, "value": value}
        )
    return hours


def _unknown_keys(raw: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise InputError(
            _("%(where)s: 알 수 없는 항목 %(keys)s (쓸 수 있는 항목: %(allowed)s)")
            % {"where": where, "keys": ", ".join(unknown), "allowed": ", ".join(sorted(allowed))}
        )


def _loss_item(raw: Any, index: int, where: str, reference: IncidentReference) -> LossItemInput:
    if not isinstance(raw, dict):
        raise InputError(_("%(where)s: 객체({...})여야 합니다") % {"where": where})
    _unknown_keys(raw, ITEM_KEYS, where)
    service, kind = raw.get("service"), raw.get("kind")
    if service not in reference.windows:
        raise InputError(
            _("%(where)s.service: 사고 %(incident)s에 없는 서비스 %(service)r (있는 서비스: %(known)s)")
            % {
                "where": where,
                "incident": reference.slug,
                "service": service,
                "known": ", ".join(sorted(reference.windows)),
            }
        )
    if kind not in KINDS:
        raise InputError(
            _("%(where)s.kind: 알 수 없는 손해 종류 %(kind)r (%(known)s 중 하나)")
            % {"where": where, "kind": kind, "known": ", ".join(KINDS)}
        )
    figures = {}
    for key in ITEM_FIGURES[kind]:
        if key not in raw:
            raise InputError(
                _("%(where)s: %(kind)s 항목에는 %(key)s가 필요합니다") % {"where": where, "kind": kind, "key": key}
            )
        figures[key] = _amount(raw[key], f"{where}.{key}")
    misplaced = sorted(
        key for figures_ in ITEM_FIGURES.values() for key in figures_ if key in raw and key not in figures
    )
    if misplaced:
        raise InputError(
            _("%(where)s: %(kind)s 항목에는 %(keys)s를 쓰지 않습니다")
            % {"where": where, "kind": kind, "keys": ", ".join(misplaced)}
        )
    return LossItemInput(
        service=service,
        kind=kind,
        has_evidence=_flag(raw.get("has_evidence", False), f"{where}.has_evidence"),
        affected_hours=_hours(raw.get("affected_hours"), f"{where}.affected_hours"),
        ref=str(index),
        **figures,
    )


class Command(BaseCommand):
    help = _(
        "JSON으로 적은 신청의 손해액을 산정해 산정 내역을 JSON으로 출력합니다 (데이터베이스에는 아무것도 쓰지 않음)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--input", required=True, help=_("신청 목록 JSON 파일 (- 는 표준 입력)"))
        parser.add_argument("--model-version", type=int, help=_("사용할 모델 버전 번호 (기본: 적용 중인 버전)"))

    def handle(self, *args, **options) -> None:
        claims = self._read(options["input"])
        default = Incident.objects.filter(is_default=True).first()
        incidents = {incident.slug: incident for incident in Incident.objects.all()}
        references = incident_references(incident_ids=[incident.pk for incident in incidents.values()])
        versions: dict[int, DamageModelVersion] = {}
        results, errors = [], []
        for index, raw in enumerate(claims):
            try:
                results.append(self._estimate(raw, index, incidents, default, references, versions, options))
            except InputError as exc:
                errors.append(str(exc))
        if errors:
            raise CommandError("\n".join(errors))
        self.stdout.write(json.dumps(results, ensure_ascii=False, indent=2))

    def _read(self, path: str) -> list:
        try:
            text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
            data = json.loads(text)
        except OSError as exc:
            raise CommandError(_("입력 파일을 읽을 수 없습니다: %(error)s") % {"error": exc}) from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CommandError(_("입력이 올바른 JSON(UTF-8)이 아닙니다: %(error)s") % {"error": exc}) from exc
        claims = data.get("claims") if isinstance(data, dict) else data
        if not isinstance(claims, list):
            raise CommandError(_('입력은 신청의 목록이거나 {"claims": [...]} 형식이어야 합니다.'))
        return claims

    def _estimate(self, raw, index, incidents, default, references, versions, options) -> dict[str, Any]:
        where = f"claims[{index}]"
        if not isinstance(raw, dict):
            raise InputError(_("%(where)s: 객체({...})여야 합니다") % {"where": where})
        _unknown_keys(raw, CLAIM_KEYS, where)
        slug = raw.get("incident", default.slug if default else None)
        incident = incidents.get(slug)
        if incident is None:
            raise InputError(
                _("%(where)s.incident: 알 수 없는 사고 %(slug)r (있는 사고: %(known)s)")
                % {"where": where, "slug": slug, "known": ", ".join(sorted(incidents))}
            )
        claimant_type = raw.get("claimant_type", Claim.ClaimantType.INDIVIDUAL)
        if claimant_type not in Claim.ClaimantType.values:
            raise InputError(
                _("%(where)s.claimant_type: %(known)s 중 하나여야 합니다")
                % {"where": where, "known": ", ".join(Claim.ClaimantType.values)}
            )
        items = raw.get("loss_items", [])
        if not isinstance(items, list):
            raise InputError(_("%(where)s.loss_items: 목록([...])이어야 합니다") % {"where": where})
        reference = references[incident.pk]
        claim_input = reference.claim_input(
            loss_items=[_loss_item(item, i, f"{where}.loss_items[{i}]", reference) for i, item in enumerate(items)],
            already_compensated=_amount(raw.get("already_compensated", 0), f"{where}.already_compensated"),
            has_proof_of_use=_flag(raw.get("proof_of_use", False), f"{where}.proof_of_use"),
            has_revenue_evidence=_flag(raw.get("revenue_evidence", False), f"{where}.revenue_evidence"),
        )
        version = self._version(incident, options["model_version"], versions)
        result = estimate(claim_input, Parameters.from_dict(version.parameters))
        return {
            "index": index,
            "incident": incident.slug,
            "claimant_type": claimant_type,
            "model_version": version.version,
            "inputs_sha256": inputs_digest(claim_input)[1],
            **result.to_dict(),
        }

    @staticmethod
    def _version(incident: Incident, number: int | None, cache: dict[int, DamageModelVersion]) -> DamageModelVersion:
        if incident.pk not in cache:
            versions = DamageModelVersion.objects.filter(incident=incident)
            version = versions.filter(version=number).first() if number else versions.filter(is_active=True).first()
            if version is None:
                raise CommandError(
                    _("사고 %(incident)s에 모델 버전 %(version)s이(가) 없습니다.")
                    % {"incident": incident.slug, "version": number}
                    if number
                    else _("사고 %(incident)s에 적용 중인 모델이 없습니다.") % {"incident": incident.slug}
                )
            cache[incident.pk] = version
        return cache[incident.pk]
