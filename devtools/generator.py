"""A synthetic cohort for benchmarks and load tests: Korean claimants and their claims for one incident.

The mix follows what the operator reported of its own 87,198 damage reports (general users 89.6 %, small
businesses 10.2 %): individuals mostly lost KakaoTalk, its media transfer, Daum Mail, Kakao T, KakaoPay, Melon and
Talk Drawer; businesses are mostly Kakao T drivers, salons booking through Kakao Hair Shop and Talk Channel, and
sellers whose AlimTalk / Talk Channel messages stopped. Claims are spread over the reporting period
(2022-10-19 .. 11-06 for the 2022 fire, busiest in the first days), over every review status, with 1-4 loss
items, evidence files and the claimant's consents and power of attorney, as the site itself would have written
them. A small share of claimants deliberately share a phone number, an email address (with a `+tag`), a business
registration number, an evidence file or a sign-up address, so the duplicate and fraud checks have something to find.

Everything is a pure function of (seed, claim number): the same seed gives the same people, claims, amounts and
files, whatever the batch size. Rows are written a batch at a time with explicit ids, through PostgreSQL's COPY
(psycopg 3) or, on other databases, `bulk_create`. Passwords are unusable (nobody can log in as a synthetic
claimant), emails use the reserved example.com/.net/.org domains, and every file says it is synthetic.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import multiprocessing
import os
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import connection, models, transaction
from faker import Faker

from accounts.models import ConsentDocument, ConsentRecord, PowerOfAttorney, User
from accounts.roles import Role
from accounts.selectors import consent_documents_current
from accounts.services.consents import consent_text_fill
from claims.models import (
    REFERENCE_ALPHABET,
    Claim,
    ClaimEvent,
    Evidence,
    Incident,
    InformationRequest,
    LossItem,
    OutageWindow,
    RejectionReason,
)
from config.hashing import sha256_chunks, sha256_hex
from devtools.synthetic_files import SyntheticFile, synthetic_pdf, synthetic_png
from payments.models import PaymentEntry, RetainerOrder, RetainerTerms

KST = ZoneInfo("Asia/Seoul")
UTC = dt.UTC
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")  # reserved (RFC 2606): mail never reaches anyone
REVIEWER_EMAIL = "synthetic.reviewer{number}@lawfirm.example"
REVIEWERS = (Role.LAWYER, Role.LAWYER, *([Role.PARALEGAL] * 6))
DEFAULT_BATCH = 5000
POOL_SIZE = 20_000
REPORTING_DAYS = 19  # 2022-10-19 .. 11-06: the operator's own reporting period
REPORTING_STARTS_AFTER = dt.timedelta(days=4)

# Of the operator's 87,198 reports: general users 89.6 %, small businesses 10.2 % (the rest unstated).
BUSINESS_SHARE = 10.2 / (89.6 + 10.2)
STATUS_WEIGHTS = {
    Claim.Status.DRAFT: 3,
    Claim.Status.SUBMITTED: 38,
    Claim.Status.IN_REVIEW: 24,
    Claim.Status.INFO_REQUESTED: 7,
    Claim.Status.ACCEPTED: 18,
    Claim.Status.REJECTED: 4,
    Claim.Status.WITHDRAWN: 6,
}
INDIVIDUAL_SERVICES = {
    "kakaotalk": 50,
    "kakaotalk-media": 14,
    "daum-mail": 9,
    "kakao-t": 9,
    "kakaopay": 8,
    "melon": 6,
    "talk-drawer": 5,
    "kakao-mail": 2,
    "kakaotalk-wallet": 2,
    "kakao-map": 2,
    "kakao-login": 2,
    "kakao-page": 1.5,
    "kakao-webtoon": 1.5,
    "kakao-gift": 1,
    "kakao-games": 1,
    "kakaotalk-pc": 1,
    "zigzag": 0.5,
}
# Paid plans an individual may claim the fee of, by service (won a month).
SUBSCRIPTIONS = {
    "kakaotalk": ((3_900, "이모티콘 플러스 구독료"),),
    "melon": ((10_900, "멜론 스트리밍 이용권"), (7_900, "멜론 모바일 스트리밍 이용권")),
    "talk-drawer": ((2_200, "톡서랍 플러스 구독료"),),
    "kakao-webtoon": ((4_900, "웹툰 정기 이용권"),),
    "kakao-page": ((4_900, "카카오페이지 정기 이용권"),),
}
EXPENSES = {
    "kakaotalk": (
        "가족·거래처 연락을 위해 문자와 전화를 따로 써서 든 요금",
        "업무 연락을 위해 다른 메신저 유료 기능을 씀",
    ),
    "kakaotalk-media": ("사진·파일을 보내지 못해 직접 찾아가 전달한 교통비", "급한 서류를 퀵서비스로 보냄"),
    "daum-mail": ("메일이 반송되어 서류를 퀵서비스로 다시 보냄", "메일을 못 받아 마감에 늦어 낸 추가 비용"),
    "kakao-t": ("택시 호출이 안 되어 다른 교통편을 이용한 추가 요금", "대리운전 호출이 안 되어 다른 업체에 낸 요금"),
    "kakaopay": ("송금이 안 되어 은행 창구 수수료를 냄", "결제가 안 되어 연체료를 냄"),
    "kakaotalk-wallet": ("전자증명서를 못 써서 서류를 따로 발급받은 비용",),
}
OTHER_LOSSES = (
    "연락이 끊겨 예약이 취소되었습니다",
    "인증 문자를 받지 못해 거래를 하지 못했습니다",
    "업무 연락을 받지 못해 손해를 보았습니다",
    "중요한 연락을 놓쳐 약속을 지키지 못했습니다",
)


@dataclass(frozen=True)
class Archetype:
    """A kind of small business seen among the claimants: its services, sectors and weekly revenue."""

    name: str
    weight: float
    company_share: float
    services: tuple[str, ...]
    sectors: tuple[str, ...]
    weekly_revenue: tuple[int, int]
    outage_share: tuple[float, float]  # outage-week revenue as a share of a normal week
    subscription: tuple[tuple[int, str], ...] = ()
    expense: str = ""
    name_suffixes: tuple[str, ...] = ()


ARCHETYPES = (
    Archetype(
        "driver",
        45,
        0.0,
        ("kakao-t",),
        ("개인택시", "대리운전"),
        (600_000, 1_800_000),
        (0.55, 0.95),
        ((39_000, "카카오T 프로 멤버십"), (22_000, "대리운전 기사 프로 요금제")),
        "호출을 받지 못한 동안 다른 호출 앱 이용료",
    ),
    Archetype(
        "salon",
        22,
        0.05,
        ("kakao-hairshop", "talk-channel"),
        ("미용실", "네일샵", "피부관리실", "속눈썹 전문점"),
        (1_200_000, 8_000_000),
        (0.35, 0.9),
        (),
        "예약 안내 문자를 따로 보낸 비용",
        ("헤어", "헤어살롱", "뷰티", "네일"),
    ),
    Archetype(
        "seller",
        23,
        0.35,
        ("alimtalk", "talk-channel", "kakaotalk"),
        ("온라인 쇼핑몰", "음식점 (배달)", "학원", "의원", "꽃집"),
        (2_000_000, 40_000_000),
        (0.55, 0.95),
        (),
        "알림톡 대신 인증번호·안내 문자(SMS)를 보낸 비용",
        ("상회", "몰", "스토어", "마켓"),
    ),
    Archetype(
        "shop",
        10,
        0.1,
        ("kakao-order", "kakao-gift", "kakaopay"),
        ("카페", "베이커리", "음식점"),
        (1_000_000, 6_000_000),
        (0.6, 0.95),
        (),
        "주문 접수가 안 되어 전화 주문 안내 전단을 만든 비용",
        ("카페", "베이커리", "식당"),
    ),
)
SHOP_NAME_STEMS = (
    "행복",
    "미소",
    "하늘",
    "별빛",
    "우리",
    "새봄",
    "초록",
    "온누리",
    "다온",
    "라온",
    "해밀",
    "소담",
    "가온",
)
# Hour-of-day weights (KST) of submissions: quiet at night, busiest late morning and in the evening.
HOUR_WEIGHTS = (
    1,
    0.6,
    0.4,
    0.3,
    0.3,
    0.4,
    0.8,
    1.5,
    2.5,
    3.2,
    3.6,
    3.6,
    3.4,
    3.3,
    3.3,
    3.2,
    3.2,
    3.0,
    3.0,
    3.3,
    3.8,
    4,
    3.2,
    2,
)
# Shares of claimants given a deliberately shared value, and how many claim numbers share one group.
DUPLICATE_PHONE, DUPLICATE_EMAIL, DUPLICATE_BUSINESS_NUMBER = 0.003, 0.002, 0.01
DUPLICATE_EVIDENCE, SIGNUP_BURST = 0.002, 0.003
DUPLICATE_GROUP = 2000


def _cumulative(weights: Iterable[float]) -> list[float]:
    total, cumulative = 0.0, []
    for weight in weights:
        total += weight
        cumulative.append(total)
    return cumulative


def _log_uniform(rng: random.Random, low: int, high: int, *, step: int = 100) -> int:
    return max(step, round(math.exp(rng.uniform(math.log(low), math.log(high))) / step) * step)


def business_registration_number(rng: random.Random, *, company: bool) -> str:
    """A number with a valid National Tax Service check digit (office code, type code, serial, check)."""
    office = rng.randrange(101, 700)
    kind = rng.randrange(81, 89) if company else rng.randrange(1, 80)
    serial = rng.randrange(0, 10_000)
    digits = [int(char) for char in f"{office:03d}{kind:02d}{serial:04d}"]
    weights = (1, 3, 7, 1, 3, 7, 1, 3, 5)
    total = sum(d * w for d, w in zip(digits, weights, strict=True)) + digits[8] * 5 // 10
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


# --- the plan of one claim (plain data, no ids yet) -------------------------------------------------------------


@dataclass
class LossPlan:
    service: str
    kind: str
    description: str
    monthly_fee: int = 0
    comparison_revenue: int = 0
    outage_revenue: int = 0
    amount: int = 0
    affected_hours: Decimal | None = None

    @property
    def claimed(self) -> int:
        if self.kind == LossItem.Kind.SUBSCRIPTION:
            return self.monthly_fee
        if self.kind == LossItem.Kind.BUSINESS_REVENUE:
            return max(0, self.comparison_revenue - self.outage_revenue)
        return self.amount


@dataclass(frozen=True)
class StoredFile:
    """A file written to storage, as its evidence row describes it."""

    content_type: str
    sha256: str
    perceptual_hash: str
    size: int


@dataclass
class EvidencePlan:
    tag: str
    file_key: str
    original_name: str
    loss: int | None  # index into the claim's loss items
    uploaded_at: dt.datetime
    kind: str  # "png" or "pdf"
    title: str = ""
    # Set when the file is written (files_write): where it is and what it is.
    name: str = ""
    stored: StoredFile | None = None


@dataclass
class ClaimPlan:
    number: int
    email: str
    legal_name: str
    date_of_birth: dt.date
    phone: str
    postal_code: str
    address: str
    address_detail: str
    signup_ip: str
    date_joined: dt.datetime
    optional_consent: bool
    status: str
    claimant_type: str
    business_registration_number: str
    business_name: str
    business_sector: str
    already_compensated: int
    services: list[str]
    created_at: dt.datetime
    submitted_at: dt.datetime | None
    reference_code: str | None
    wizard_step: str
    reviewer: int | None  # index into the reviewers
    reviewed_at: dt.datetime | None
    decided_at: dt.datetime | None
    withdrawn_at: dt.datetime | None
    rejection_reason: str
    losses: list[LossPlan] = field(default_factory=list)
    evidence: list[EvidencePlan] = field(default_factory=list)

    @property
    def claimed_total(self) -> int:
        return sum(loss.claimed for loss in self.losses)


@dataclass
class Context:
    """What every claim plan draws from: the seed, the incident's services and windows, the name pools."""

    seed: int
    incident: Incident
    windows: dict[str, OutageWindow]
    reporting_start: dt.datetime
    names: list[str]
    addresses: list[str]
    postcodes: list[str]
    user_names: list[str]
    companies: list[str]
    reviewer_count: int
    rejection_codes: list[str]
    individual_services: list[str] = field(default_factory=list)
    individual_cumulative: list[float] = field(default_factory=list)
    archetypes: list[Archetype] = field(default_factory=list)
    archetype_cumulative: list[float] = field(default_factory=list)
    day_cumulative: list[float] = field(default_factory=list)
    hour_cumulative: list[float] = field(default_factory=lambda: _cumulative(HOUR_WEIGHTS))
    status_values: list[str] = field(default_factory=lambda: list(STATUS_WEIGHTS))
    status_cumulative: list[float] = field(default_factory=lambda: _cumulative(STATUS_WEIGHTS.values()))

    def __post_init__(self) -> None:
        known = set(self.windows)
        services = [slug for slug in INDIVIDUAL_SERVICES if slug in known] or sorted(known)
        self.individual_services = services
        self.individual_cumulative = _cumulative(INDIVIDUAL_SERVICES.get(slug, 1) for slug in services)
        self.archetypes = [a for a in ARCHETYPES if any(slug in known for slug in a.services)]
        self.archetype_cumulative = _cumulative(a.weight for a in self.archetypes)
        # Most reports came in the first days after the operator opened its form.
        self.day_cumulative = _cumulative(math.exp(-day / 5) + 0.12 for day in range(REPORTING_DAYS))

    def rng(self, number: int, purpose: str = "") -> random.Random:
        return random.Random(f"{self.seed}:{number}:{purpose}")

    def group_key(self, number: int, what: str) -> str:
        """Claims in the same block of numbers that draw a deliberate duplicate share this key."""
        return f"{self.seed}:{what}:{number // DUPLICATE_GROUP}"


def _phone(seed: int, key: int) -> str:
    """010 and eight digits (the first 2-9), different for every claim number of a seed (a bijection)."""
    offset = random.Random(f"phone:{seed}").randrange(80_000_000)
    return f"010{(offset + key * 48271) % 80_000_000 + 20_000_000:08d}"


def _email(ctx: Context, number: int) -> str:
    rng = ctx.rng(number, "email")
    user = rng.choice(ctx.user_names)
    return f"{user}.{ctx.seed}.{number}@{rng.choice(EMAIL_DOMAINS)}"


def _moment(ctx: Context, rng: random.Random) -> dt.datetime:
    """A submission time in the reporting period, weighted by day and by hour of the day (KST)."""
    day = rng.choices(range(REPORTING_DAYS), cum_weights=ctx.day_cumulative)[0]
    hour = rng.choices(range(24), cum_weights=ctx.hour_cumulative)[0]
    local = ctx.reporting_start + dt.timedelta(days=day, hours=hour, seconds=rng.randrange(3600))
    return local.astimezone(UTC)


def _hours(rng: random.Random, window: OutageWindow | None) -> Decimal | None:
    """Hours affected: given for about a third of items, a few of them beyond the service's official window."""
    if window is None or rng.random() > 0.3:
        return None
    official = max(1.0, window.hours)
    hours = official + rng.uniform(5, 48) if rng.random() < 0.04 else rng.uniform(1, official)
    return Decimal(str(round(hours * 2) / 2 or 0.5))


def _individual_losses(ctx: Context, rng: random.Random, services: Sequence[str]) -> list[LossPlan]:
    losses = []
    for slug in services:
        window = ctx.windows.get(slug)
        plans = SUBSCRIPTIONS.get(slug)
        choice = rng.random()
        if plans and choice < 0.7:
            fee, description = rng.choice(plans)
            losses.append(LossPlan(slug, LossItem.Kind.SUBSCRIPTION, description, monthly_fee=fee))
        elif choice < 0.85 or slug not in EXPENSES:
            amount = _log_uniform(rng, 10_000, 300_000, step=1000)
            losses.append(LossPlan(slug, LossItem.Kind.OTHER, rng.choice(OTHER_LOSSES), amount=amount))
        else:
            amount = _log_uniform(rng, 5_000, 300_000)
            losses.append(LossPlan(slug, LossItem.Kind.EXPENSE, rng.choice(EXPENSES[slug]), amount=amount))
        losses[-1].affected_hours = _hours(rng, window)
    return losses


def _business_losses(ctx: Context, rng: random.Random, archetype: Archetype, services: Sequence[str]) -> list:
    low, high = archetype.weekly_revenue
    normal = _log_uniform(rng, low, high, step=1000)
    if rng.random() < 0.015:  # a few claim a revenue loss their own figures do not show
        outage = normal + rng.randrange(0, 3) * 10_000
    else:
        outage = round(normal * rng.uniform(*archetype.outage_share) / 1000) * 1000
    main = services[0]
    losses = [
        LossPlan(
            main,
            LossItem.Kind.BUSINESS_REVENUE,
            "장애 주간(10월 15일~21일) 매출이 평소보다 줄었습니다",
            comparison_revenue=normal,
            outage_revenue=min(outage, normal * 2),
            affected_hours=_hours(rng, ctx.windows.get(main)),
        )
    ]
    if archetype.subscription and rng.random() < 0.5:
        fee, description = rng.choice(archetype.subscription)
        losses.append(LossPlan(main, LossItem.Kind.SUBSCRIPTION, description, monthly_fee=fee))
    if archetype.expense and rng.random() < 0.4:
        slug = services[-1]
        losses.append(
            LossPlan(slug, LossItem.Kind.EXPENSE, archetype.expense, amount=_log_uniform(rng, 5_000, 300_000))
        )
    return losses[:4]


def _evidence(ctx: Context, rng: random.Random, plan: ClaimPlan) -> list[EvidencePlan]:
    """Files as claimants upload them: a screenshot proving use, payment records, revenue records, receipts."""
    start = plan.created_at
    end = plan.submitted_at or plan.created_at + dt.timedelta(hours=2)
    files: list[tuple[str, int | None, str, str, str]] = []  # tag, loss, kind, name, title
    if rng.random() < 0.75:
        files.append(
            (Evidence.Tag.PROOF_OF_USE, None, "png", f"Screenshot_20221015_{rng.randrange(1530, 2359)}.png", "")
        )
    if plan.claimant_type != Claim.ClaimantType.INDIVIDUAL and rng.random() < 0.85:
        files.append((Evidence.Tag.BUSINESS_REGISTRATION, None, "pdf", "사업자등록증.pdf", "Business registration"))
    for index, loss in enumerate(plan.losses):
        if loss.kind == LossItem.Kind.BUSINESS_REVENUE and rng.random() < 0.8:
            files.append((Evidence.Tag.REVENUE_RECORDS, index, "pdf", "매출내역_2022년10월.pdf", "Revenue records"))
        elif loss.kind == LossItem.Kind.SUBSCRIPTION and rng.random() < 0.55:
            files.append((Evidence.Tag.SUBSCRIPTION_PAYMENT, index, "png", "결제내역.png", ""))
        elif loss.kind == LossItem.Kind.EXPENSE and rng.random() < 0.45:
            if rng.random() < 0.5:
                files.append((Evidence.Tag.RECEIPT, index, "png", "영수증.png", ""))
            else:
                files.append((Evidence.Tag.RECEIPT, index, "pdf", "영수증.pdf", "Receipt"))
    plans = []
    for position, (tag, loss, kind, name, title) in enumerate(files[:5]):
        key = f"{ctx.seed}:{plan.number}:{position}"
        if rng.random() < DUPLICATE_EVIDENCE:
            key = ctx.group_key(plan.number, f"evidence-{tag}")
        moment = start + (end - start) * rng.random()
        plans.append(EvidencePlan(tag, key, name, loss, moment, kind, title))
    return plans


def claim_plan(ctx: Context, number: int) -> ClaimPlan:
    """Claim number `number` of the seed: the claimant, the claim, its loss items and evidence."""
    rng = ctx.rng(number)
    status = rng.choices(ctx.status_values, cum_weights=ctx.status_cumulative)[0]
    burst = rng.random() < SIGNUP_BURST
    if burst:  # a few accounts made from one address within the hour
        group = random.Random(ctx.group_key(number, "burst"))
        joined = _moment(ctx, group) + dt.timedelta(minutes=rng.randrange(50))
        signup_ip = f"198.51.100.{group.randrange(1, 255)}"
        created = joined + dt.timedelta(minutes=rng.randrange(5, 120))
        submitted = created + dt.timedelta(minutes=rng.randrange(10, 600))
    else:
        submitted = _moment(ctx, rng)
        created = submitted - dt.timedelta(minutes=rng.randrange(8, 60 * 48))
        joined = created - dt.timedelta(minutes=rng.randrange(3, 60 * 24))
        signup_ip = f"2001:db8:{rng.randrange(1, 0xFFFF):x}:{rng.randrange(0xFFFF):x}::{rng.randrange(1, 0xFFFF):x}"
    phone = _phone(ctx.seed, number)
    if rng.random() < DUPLICATE_PHONE:
        phone = _phone(ctx.seed, 10_000_000 + number // DUPLICATE_GROUP)
    email = _email(ctx, number)
    if rng.random() < DUPLICATE_EMAIL:  # the same mailbox with a +tag, as a second account of one person
        base = _email(ctx, 10_000_000 + number // DUPLICATE_GROUP)
        local, domain = base.split("@")
        email = f"{local}+{number}@{domain}"
    legal_name = rng.choice(ctx.names)
    age = rng.choices(
        (rng.randrange(19, 30), rng.randrange(30, 50), rng.randrange(50, 65), rng.randrange(65, 85)), (3, 4, 3, 1)
    )[0]
    birth = dt.date(2022 - age, 1, 1) - dt.timedelta(days=rng.randrange(365))
    address_index = rng.randrange(len(ctx.addresses))

    business = rng.random() < BUSINESS_SHARE and bool(ctx.archetypes)
    brn = business_name = sector = ""
    compensated = 0
    if business:
        archetype = rng.choices(ctx.archetypes, cum_weights=ctx.archetype_cumulative)[0]
        company = rng.random() < archetype.company_share
        claimant_type = Claim.ClaimantType.COMPANY if company else Claim.ClaimantType.SOLE_PROPRIETOR
        services = [slug for slug in archetype.services if slug in ctx.windows]
        if len(services) > 1:
            services = services[: rng.choice(range(1, len(services) + 1))]
        brn_rng = rng
        if rng.random() < DUPLICATE_BUSINESS_NUMBER:
            brn_rng = random.Random(ctx.group_key(number, "brn"))
        brn = business_registration_number(brn_rng, company=company)
        sector = rng.choice(archetype.sectors)
        if company:
            business_name = rng.choice(ctx.companies)
        elif archetype.name == "driver":
            business_name = f"{sector} ({legal_name})"
        else:
            business_name = f"{rng.choice(SHOP_NAME_STEMS)}{rng.choice(archetype.name_suffixes)}"
        losses = _business_losses(ctx, rng, archetype, services)
        if rng.random() < 0.4:  # the operator's own programme: 30,000 or 50,000 won
            compensated = 30_000 if losses[0].claimed <= 300_000 else 50_000
    else:
        claimant_type = Claim.ClaimantType.INDIVIDUAL
        picks = rng.choices((1, 2, 3), (55, 30, 15))[0]
        services = []
        while len(services) < min(picks, len(ctx.individual_services)):
            slug = rng.choices(ctx.individual_services, cum_weights=ctx.individual_cumulative)[0]
            if slug not in services:
                services.append(slug)
        losses = _individual_losses(ctx, rng, services)
        if rng.random() < 0.25 and len(losses) < 4:
            losses += _individual_losses(ctx, rng, [rng.choice(services)])

    reviewer = reviewed = decided = withdrawn = None
    reason = ""
    step = "review"
    code: str | None = None
    if status == Claim.Status.DRAFT:
        step = rng.choice(("claimant", "losses", "evidence", "review"))
        submitted = None
        if step == "claimant":
            claimant_type, brn, business_name, sector, losses = "", "", "", "", []
    else:
        code = reference_code(rng)
        if status != Claim.Status.SUBMITTED or rng.random() < 0.2:
            reviewer = rng.randrange(ctx.reviewer_count)
        if status in (
            Claim.Status.IN_REVIEW,
            Claim.Status.INFO_REQUESTED,
            Claim.Status.ACCEPTED,
            Claim.Status.REJECTED,
        ):
            reviewed = submitted + dt.timedelta(hours=rng.randrange(2, 24 * 10))
        if status in (Claim.Status.ACCEPTED, Claim.Status.REJECTED):
            decided = reviewed + dt.timedelta(hours=rng.randrange(1, 24 * 20))
            if status == Claim.Status.REJECTED and ctx.rejection_codes:
                reason = rng.choice(ctx.rejection_codes)
        if status == Claim.Status.WITHDRAWN:
            withdrawn = submitted + dt.timedelta(hours=rng.randrange(1, 24 * 25))
    plan = ClaimPlan(
        number=number,
        email=email,
        legal_name=legal_name,
        date_of_birth=birth,
        phone=phone,
        postal_code=ctx.postcodes[address_index],
        address=ctx.addresses[address_index],
        address_detail=f"{rng.randrange(101, 120)}동 {rng.randrange(1, 25)}{rng.randrange(1, 9):02d}호",
        signup_ip=signup_ip,
        date_joined=joined,
        optional_consent=rng.random() < 0.4,
        status=status,
        claimant_type=claimant_type,
        business_registration_number=brn,
        business_name=business_name,
        business_sector=sector,
        already_compensated=compensated,
        services=services,
        created_at=created,
        submitted_at=submitted,
        reference_code=code,
        wizard_step=step,
        reviewer=reviewer,
        reviewed_at=reviewed,
        decided_at=decided,
        withdrawn_at=withdrawn,
        rejection_reason=reason,
        losses=losses,
    )
    if step in ("evidence", "review"):
        plan.evidence = _evidence(ctx, rng, plan)
    return plan


def reference_code(rng: random.Random) -> str:
    body = "".join(rng.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"KC-{body[:4]}-{body[4:]}"


# --- writing rows ---------------------------------------------------------------------------------------------------


class Table:
    """One model's table: its columns in order and each field's default, for rows given as dicts."""

    def __init__(self, model: type[models.Model], *, with_id: bool = True) -> None:
        self.model = model
        # Generated columns (the perceptual-hash bands) are computed by the database from the others.
        fields = [
            f
            for f in model._meta.concrete_fields
            if (with_id or not f.primary_key) and not getattr(f, "generated", False)
        ]
        self.fields = fields
        self.names = [f.attname for f in fields]
        self.columns = [f.column for f in fields]
        self.defaults = {f.attname: None if f.primary_key else f.get_default() for f in fields}
        self.json = {f.attname for f in fields if isinstance(f, models.JSONField)}
        self.rows: list[dict] = []

    def add(self, **values) -> None:
        self.rows.append(values)

    def tuples(self) -> Iterable[tuple]:
        defaults, json_fields = self.defaults, self.json
        for row in self.rows:
            values = []
            for name in self.names:
                value = row.get(name, defaults[name])
                if name in json_fields:
                    value = json.dumps(value, ensure_ascii=False)
                values.append(value)
            yield tuple(values)


class Writer:
    """Explicit ids, reserved from the table's sequence, and rows written with COPY on PostgreSQL (one round
    trip per table and batch), else with bulk_create."""

    def __init__(self) -> None:
        self.postgresql = connection.vendor == "postgresql"
        self.next_ids: dict[type[models.Model], int] = {}

    def reserve(self, model: type[models.Model], count: int) -> int:
        """The first of `count` consecutive new ids for `model`."""
        if count == 0:
            return 0
        table = model._meta.db_table
        if self.postgresql:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
                sequence = cursor.fetchone()[0]
                cursor.execute("SELECT nextval(%s)", [sequence])
                first = cursor.fetchone()[0]
                cursor.execute("SELECT setval(%s, %s)", [sequence, first + count - 1])
            return first
        first = self.next_ids.get(model) or (model.objects.aggregate(top=models.Max("pk"))["top"] or 0) + 1
        self.next_ids[model] = first + count
        return first

    def write(self, table: Table) -> None:
        if not table.rows:
            return
        if self.postgresql:
            columns = ", ".join(connection.ops.quote_name(column) for column in table.columns)
            with connection.cursor() as cursor:
                sql = f"COPY {connection.ops.quote_name(table.model._meta.db_table)} ({columns}) FROM STDIN"
                with cursor.cursor.copy(sql) as copy:
                    for row in table.tuples():
                        copy.write_row(row)
        else:
            objects = []
            for row in table.tuples():
                obj = table.model(**dict(zip(table.names, row, strict=True)))
                for name in table.json:
                    setattr(obj, name, json.loads(getattr(obj, name)))
                objects.append(obj)
            table.model.objects.bulk_create(objects, batch_size=500)
        table.rows.clear()


class FileWriter:
    """Writes each synthetic file once (by storage name) into the default storage."""

    def __init__(self) -> None:
        self.local = isinstance(default_storage, FileSystemStorage)
        self.created_dirs: set[str] = set()
        self.count = 0

    def save(self, name: str, synthetic: SyntheticFile) -> None:
        self.count += 1
        if not self.local:
            default_storage.save(name, ContentFile(synthetic.content))
            return
        path = default_storage.path(name)
        folder = os.path.dirname(path)
        if folder not in self.created_dirs:
            os.makedirs(folder, mode=0o700, exist_ok=True)
            self.created_dirs.add(folder)
        with open(path, "wb") as handle:
            handle.write(synthetic.content)


def files_write(ctx: Context, plans: Sequence[ClaimPlan], files: FileWriter) -> None:
    """Make and store each plan's evidence files, recording on the plan where each went and its hashes. The
    names depend on the seed and claim number only (not on ids), so this can run before the rows are written."""
    for plan in plans:
        for evidence in plan.evidence:
            if evidence.kind == "png":
                synthetic = synthetic_png(evidence.file_key)
            else:
                synthetic = synthetic_pdf(evidence.file_key, title=evidence.title)
            token = sha256_hex(f"{evidence.file_key}:{plan.number}:{evidence.tag}")[:32]
            evidence.name = f"evidence/synthetic/{ctx.seed}/{plan.number // 1000:04d}/{plan.number}-{token}"
            files.save(evidence.name, synthetic)
            evidence.stored = StoredFile(
                synthetic.content_type, synthetic.sha256, synthetic.perceptual_hash, synthetic.size
            )


_WORKER_CONTEXT: Context | None = None


def _worker_start(ctx: Context) -> None:
    global _WORKER_CONTEXT
    _WORKER_CONTEXT = ctx


def plans_with_files(numbers: range, ctx: Context | None = None) -> tuple[list[ClaimPlan], int]:
    """Plan the claims of `numbers` and write their files (in a worker process, or here with `ctx`); returns the
    plans and how many files were written."""
    ctx = ctx or _WORKER_CONTEXT
    plans = [claim_plan(ctx, number) for number in numbers]
    files = FileWriter()
    files_write(ctx, plans, files)
    return plans, files.count


# --- the run ----------------------------------------------------------------------------------------------------------


@dataclass
class GenerationReport:
    claims: int = 0
    users: int = 0
    loss_items: int = 0
    evidence: int = 0
    events: int = 0
    files: int = 0
    seconds: float = 0.0
    first_claim_id: int | None = None
    last_claim_id: int | None = None

    @property
    def claims_per_second(self) -> float:
        return self.claims / self.seconds if self.seconds else 0.0


class GenerationError(Exception):
    pass


def _reviewers(ctx_names: Sequence[str]) -> list[User]:
    """Eight synthetic staff reviewers (two Lawyers, six Paralegals), shared by every seed; nobody can log in."""
    reviewers = []
    for number, role in enumerate(REVIEWERS, start=1):
        email = REVIEWER_EMAIL.format(number=number)
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User(
                email=email,
                legal_name=ctx_names[number],
                is_staff=True,
                email_verified_at=dt.datetime(2022, 10, 17, tzinfo=KST),
            )
            user.set_unusable_password()
            user.save()
            user.groups.set(Group.objects.filter(name=role.value))
        reviewers.append(user)
    return reviewers


def _pools(seed: int) -> dict[str, list[str]]:
    faker = Faker("ko_KR")
    faker.seed_instance(seed)
    return {
        "names": [faker.name() for _ in range(POOL_SIZE)],
        "addresses": [faker.address() for _ in range(POOL_SIZE)],
        "postcodes": [faker.postcode() for _ in range(POOL_SIZE)],
        "user_names": [faker.user_name() for _ in range(POOL_SIZE // 4)],
        "companies": [faker.company() for _ in range(POOL_SIZE // 10)],
    }


def _incident(slug: str | None) -> Incident:
    incidents = Incident.objects.all()
    incident = incidents.filter(slug=slug).first() if slug else incidents.filter(is_default=True).first()
    if incident is None:
        raise GenerationError(
            f"No incident {slug!r}: load the reference data first (manage.py migrate)."
            if slug
            else "No default incident: load the reference data first (manage.py migrate)."
        )
    return incident


class Batch:
    def __init__(self) -> None:
        self.users = Table(User)
        self.claims = Table(Claim)
        self.services = Table(Claim.services.through, with_id=False)
        self.losses = Table(LossItem)
        self.evidence = Table(Evidence, with_id=False)
        self.events = Table(ClaimEvent, with_id=False)
        self.requests = Table(InformationRequest, with_id=False)
        self.consents = Table(ConsentRecord, with_id=False)
        self.powers = Table(PowerOfAttorney, with_id=False)
        self.orders = Table(RetainerOrder)
        self.entries = Table(PaymentEntry, with_id=False)

    def in_order(self) -> list[Table]:
        return [
            self.users,
            self.claims,
            self.services,
            self.losses,
            self.evidence,
            self.events,
            self.requests,
            self.consents,
            self.powers,
            self.orders,
            self.entries,
        ]


class Generator:
    """Writes claims `start .. start + count - 1` of a seed, a batch at a time (see claims_generate)."""

    def __init__(self, *, seed: int, incident: Incident) -> None:
        windows = {
            w.service.slug: w
            for w in OutageWindow.objects.filter(incident=incident).select_related("service", "incident")
        }
        if not windows:
            raise GenerationError(f"Incident {incident.slug!r} has no outage windows: nothing to claim for.")
        pools = _pools(seed)
        self.reviewers = _reviewers(pools["names"])
        start_day = incident.outage_started.astimezone(KST).date() + REPORTING_STARTS_AFTER
        self.ctx = Context(
            seed=seed,
            incident=incident,
            windows=windows,
            reporting_start=dt.datetime.combine(start_day, dt.time(), tzinfo=KST),
            reviewer_count=len(self.reviewers),
            rejection_codes=list(
                RejectionReason.objects.filter(is_active=True).order_by("code").values_list("code", flat=True)
            ),
            **pools,
        )
        self.service_ids = {slug: window.service_id for slug, window in windows.items()}
        documents = {document.kind: document for document in consent_documents_current()}
        self.privacy = documents.get(ConsentDocument.Kind.PRIVACY_REQUIRED)
        self.optional = documents.get(ConsentDocument.Kind.PRIVACY_OPTIONAL)
        self.power_document = documents.get(ConsentDocument.Kind.POWER_OF_ATTORNEY)
        # The retainer its fee terms ask (payments), paid by every synthetic claimant right after signing.
        self.retainer_terms = RetainerTerms.objects.filter(document=self.power_document).first()
        self.writer = Writer()
        # One signed-PDF file per seed, written once and referenced by every synthetic power of attorney.
        pdf = synthetic_pdf(f"{seed}:poa", title="Power of attorney (signed electronically)")
        self.power_pdf = (pdf, f"power-of-attorney/synthetic/seed-{seed}-{pdf.sha256[:12]}.pdf")
        FileWriter().save(self.power_pdf[1], pdf)
        self.password = "!synthetic-" + sha256_hex(f"{seed}")[:30]  # unusable: starts with !

    def write_batch(self, plans: list[ClaimPlan], report: GenerationReport, *, with_claims: bool = True) -> None:
        """Write the planned claimants and (unless `with_claims` is off) their claims, whose files are written."""
        batch = Batch()
        writer = self.writer
        user_id = writer.reserve(User, len(plans))
        self.order_id = writer.reserve(RetainerOrder, len(plans)) if self.retainer_terms else None
        self.first_user_id = user_id
        if with_claims:
            self._unique_codes(plans)
            claim_id = writer.reserve(Claim, len(plans))
            loss_id = writer.reserve(LossItem, sum(len(plan.losses) for plan in plans))
            if report.first_claim_id is None:
                report.first_claim_id = claim_id
            report.last_claim_id = claim_id + len(plans) - 1
            report.claims += len(plans)
        for offset, plan in enumerate(plans):
            self._claimant_rows(batch, plan, user_id + offset)
            if with_claims:
                loss_id = self._claim_rows(batch, plan, user_id + offset, claim_id + offset, loss_id)
        report.users += len(plans)
        report.loss_items += len(batch.losses.rows)
        report.evidence += len(batch.evidence.rows)
        report.events += len(batch.events.rows)
        with transaction.atomic():
            for table in batch.in_order():
                writer.write(table)

    def _unique_codes(self, plans: Sequence[ClaimPlan]) -> None:
        """Reference codes are unique in the table: a code already taken (by another seed) is drawn again."""
        codes = [plan.reference_code for plan in plans if plan.reference_code]
        taken = set(Claim.objects.filter(reference_code__in=codes).values_list("reference_code", flat=True))
        seen: set[str] = set()
        for plan in plans:
            if not plan.reference_code:
                continue
            attempt = 0
            while plan.reference_code in taken or plan.reference_code in seen:
                attempt += 1
                plan.reference_code = reference_code(self.ctx.rng(plan.number, f"code{attempt}"))
                if Claim.objects.filter(reference_code=plan.reference_code).exists():
                    taken.add(plan.reference_code)
            seen.add(plan.reference_code)

    def _claimant_rows(self, batch: Batch, plan: ClaimPlan, user_id: int) -> None:
        verified = plan.date_joined + dt.timedelta(minutes=3)
        batch.users.add(
            id=user_id,
            password=self.password,
            email=plan.email,
            email_verified_at=verified,
            legal_name=plan.legal_name,
            date_of_birth=plan.date_of_birth,
            phone=plan.phone,
            postal_code=plan.postal_code,
            address=plan.address,
            address_detail=plan.address_detail,
            signup_ip=plan.signup_ip,
            date_joined=plan.date_joined,
            last_login=plan.submitted_at or plan.created_at,
        )
        self._consents(batch, plan, user_id, verified)

    def _claim_rows(self, batch: Batch, plan: ClaimPlan, user_id: int, claim_id: int, loss_id: int) -> int:
        ctx = self.ctx
        reviewer = self.reviewers[plan.reviewer] if plan.reviewer is not None else None
        transitions = sum(1 for moment in (plan.reviewed_at, plan.decided_at, plan.withdrawn_at) if moment)
        updated = max(
            m for m in (plan.created_at, plan.submitted_at, plan.reviewed_at, plan.decided_at, plan.withdrawn_at) if m
        )
        batch.claims.add(
            id=claim_id,
            reference_code=plan.reference_code,
            claimant_id=user_id,
            incident_id=ctx.incident.pk,
            status=plan.status,
            was_using_during_outage=True,
            claimant_type=plan.claimant_type,
            business_registration_number=plan.business_registration_number,
            business_name=plan.business_name,
            business_sector=plan.business_sector,
            already_compensated=plan.already_compensated,
            wizard_step=plan.wizard_step,
            claimed_total=plan.claimed_total,
            reviewer_id=reviewer.pk if reviewer else None,
            version=1 + transitions + len(plan.losses),
            created_at=plan.created_at,
            updated_at=updated,
            submitted_at=plan.submitted_at,
            decided_at=plan.decided_at,
            withdrawn_at=plan.withdrawn_at,
        )
        for slug in plan.services:
            batch.services.add(claim_id=claim_id, service_id=self.service_ids[slug])
        loss_ids = []
        for loss in plan.losses:
            loss_ids.append(loss_id)
            batch.losses.add(
                id=loss_id,
                claim_id=claim_id,
                service_id=self.service_ids[loss.service],
                kind=loss.kind,
                monthly_fee=loss.monthly_fee,
                comparison_revenue=loss.comparison_revenue,
                outage_revenue=loss.outage_revenue,
                amount=loss.amount,
                description=loss.description,
                affected_hours=loss.affected_hours,
                created_at=plan.created_at,
                updated_at=plan.created_at,
            )
            loss_id += 1
        for evidence in plan.evidence:
            self._evidence(batch, plan, evidence, user_id, claim_id, loss_ids)
        self._events(batch, plan, user_id, claim_id, reviewer)
        return loss_id

    def _consents(self, batch: Batch, plan: ClaimPlan, user_id: int, verified: dt.datetime) -> None:
        """Every claimant accepted the required consents and signed the power of attorney before starting."""
        accepted = verified + dt.timedelta(minutes=2)
        for document, wanted in ((self.privacy, True), (self.optional, plan.optional_consent)):
            if document and wanted:
                batch.consents.add(
                    user_id=user_id,
                    document_id=document.pk,
                    action=ConsentRecord.Action.ACCEPTED,
                    text_sha256=document.text_sha256,
                    at=accepted,
                    ip=plan.signup_ip,
                    user_agent="Mozilla/5.0 (Linux; Android 12) synthetic",
                )
        if not self.power_document:
            return
        signed = accepted + dt.timedelta(minutes=3)
        address = f"({plan.postal_code}) {plan.address} {plan.address_detail}"
        values = {
            "name": plan.legal_name,
            "date_of_birth": plan.date_of_birth.strftime("%Y. %m. %d."),
            "address": address,
            "phone": plan.phone,
            "email": plan.email,
            "date": signed.astimezone(KST).strftime("%Y. %m. %d."),
        }
        text = consent_text_fill(document=self.power_document, values=values)
        pdf, name = self.power_pdf
        content_sha256 = sha256_chunks([text.encode("utf-8"), plan.legal_name.encode("utf-8")])
        batch.powers.add(
            user_id=user_id,
            document_id=self.power_document.pk,
            signature_method=PowerOfAttorney.SignatureMethod.TYPED,
            signature_image="",
            typed_name=plan.legal_name,
            pdf=name,
            pdf_sha256=pdf.sha256,
            content_sha256=content_sha256,
            signer_snapshot=values,
            signed_at=signed,
            ip=plan.signup_ip,
            user_agent="Mozilla/5.0 (Linux; Android 12) synthetic",
            authentication={
                "email": plan.email,
                "email_verified_at": verified.isoformat(),
                "login_at": plan.date_joined.isoformat(),
                "session": "password_login",
            },
        )
        batch.consents.add(
            user_id=user_id,
            document_id=self.power_document.pk,
            action=ConsentRecord.Action.ACCEPTED,
            text_sha256=self.power_document.text_sha256,
            signed_content_sha256=content_sha256,
            at=signed,
            ip=plan.signup_ip,
            user_agent="Mozilla/5.0 (Linux; Android 12) synthetic",
        )
        self._retainer(batch, plan, user_id, signed + dt.timedelta(minutes=2))

    def _retainer(self, batch: Batch, plan: ClaimPlan, user_id: int, paid: dt.datetime) -> None:
        """The retainer paid by card in the sandbox gateway: the order and its ledger (no refunds are played)."""
        terms = self.retainer_terms
        if terms is None or self.order_id is None:
            return
        order_id = self.order_id + user_id - self.first_user_id
        batch.orders.add(
            id=order_id,
            claimant_id=user_id,
            terms_id=terms.pk,
            payment_id=f"retainer-synthetic-{self.ctx.seed}-{plan.number}",
            amount=terms.amount,
            status=RetainerOrder.Status.PAID,
            created_at=paid - dt.timedelta(minutes=1),
            paid_at=paid,
        )
        common = {"order_id": order_id, "amount": terms.amount}
        batch.entries.add(**common, kind=PaymentEntry.Kind.ORDER, actor_id=user_id, at=paid - dt.timedelta(minutes=1))
        batch.entries.add(
            **common, kind=PaymentEntry.Kind.PAYMENT, method="card", gateway="sandbox-payments", sandbox=True, at=paid
        )

    def _evidence(
        self,
        batch: Batch,
        plan: ClaimPlan,
        evidence: EvidencePlan,
        user_id: int,
        claim_id: int,
        loss_ids: Sequence[int],
    ) -> None:
        synthetic, name = evidence.stored, evidence.name
        batch.evidence.add(
            claim_id=claim_id,
            loss_item_id=loss_ids[evidence.loss] if evidence.loss is not None else None,
            tag=evidence.tag,
            file=name,
            display_file=name if evidence.kind == "png" else "",  # a PNG without metadata is its own clean copy
            original_name=evidence.original_name,
            content_type=synthetic.content_type,
            size=synthetic.size,
            sha256=synthetic.sha256,
            perceptual_hash=synthetic.perceptual_hash,
            uploaded_by_id=user_id,
            uploaded_at=evidence.uploaded_at,
        )

    def _events(self, batch: Batch, plan: ClaimPlan, user_id: int, claim_id: int, reviewer: User | None) -> None:
        def event(kind: str, at: dt.datetime, actor: int | None, message: str = "", **data) -> None:
            ip = plan.signup_ip if actor == user_id else None
            batch.events.add(
                claim_id=claim_id, actor_id=actor, kind=kind, message=message, data=data, ip=ip, created_at=at
            )

        event(ClaimEvent.Kind.CREATED, plan.created_at, user_id, services=plan.services)
        if plan.submitted_at is None:
            return
        event(ClaimEvent.Kind.SUBMITTED, plan.submitted_at, user_id, reference_code=plan.reference_code)
        staff = reviewer.pk if reviewer else None
        if plan.reviewed_at:
            event(ClaimEvent.Kind.REVIEW_STARTED, plan.reviewed_at, staff, previous_status=Claim.Status.SUBMITTED)
        if plan.status == Claim.Status.INFO_REQUESTED:
            asked = plan.reviewed_at + dt.timedelta(hours=1)
            items = [str(Evidence.Tag.PROOF_OF_USE.label)]
            message = "장애 시간 동안 서비스를 이용하고 있었음을 보여 주는 화면을 올려 주세요."
            due = (asked + dt.timedelta(days=14)).astimezone(KST).date()
            batch.requests.add(
                claim_id=claim_id, requested_by_id=staff, message=message, items=items, due_date=due, created_at=asked
            )
            event(
                ClaimEvent.Kind.INFO_REQUESTED,
                asked,
                staff,
                message,
                previous_status=Claim.Status.IN_REVIEW,
                items=items,
                due_date=due.isoformat(),
            )
        if plan.status == Claim.Status.ACCEPTED:
            event(ClaimEvent.Kind.ACCEPTED, plan.decided_at, staff, previous_status=Claim.Status.IN_REVIEW)
        if plan.status == Claim.Status.REJECTED:
            event(
                ClaimEvent.Kind.REJECTED,
                plan.decided_at,
                staff,
                previous_status=Claim.Status.IN_REVIEW,
                reason=plan.rejection_reason,
            )
        if plan.status == Claim.Status.WITHDRAWN:
            event(ClaimEvent.Kind.WITHDRAWN, plan.withdrawn_at, user_id, previous_status=Claim.Status.SUBMITTED)


def claimants_generate(*, count: int, seed: int, password_hash: str) -> list[str]:
    """`count` claimants of `seed` who may file a claim now (email verified, profile complete, consents accepted,
    power of attorney signed) and have none yet, all with the given password hash (hashed once by the caller).
    For load tests that log in through the real form. Returns their emails."""
    generator = Generator(seed=seed, incident=_incident(None))
    generator.password = password_hash
    report, emails = GenerationReport(), []
    for start in range(0, count, DEFAULT_BATCH):
        plans = [claim_plan(generator.ctx, number) for number in range(start, min(count, start + DEFAULT_BATCH))]
        generator.write_batch(plans, report, with_claims=False)
        emails += [plan.email for plan in plans]
    return emails


def _planned_batches(ctx: Context, batches: list[range], workers: int) -> Iterator[tuple[list[ClaimPlan], int]]:
    """Plans with their files written, batch by batch: by `workers` forked processes (while this one writes
    rows), or here when there are none or the connection is inside a transaction (tests)."""
    if workers < 1 or connection.in_atomic_block or len(batches) < 2:
        for numbers in batches:
            yield plans_with_files(numbers, ctx)
        return
    connection.close()  # a forked child must not share this process's database socket
    pool = ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("fork"), initializer=_worker_start, initargs=(ctx,)
    )
    with pool:
        yield from pool.map(plans_with_files, batches)


def claims_generate(
    *,
    count: int,
    seed: int,
    incident_slug: str | None = None,
    batch_size: int = DEFAULT_BATCH,
    first_number: int = 0,
    workers: int = 0,
    progress: Callable[[GenerationReport], None] | None = None,
) -> GenerationReport:
    """Write `count` synthetic claims of `seed` (claim numbers first_number .. first_number+count-1) for the
    incident (default: the default incident). Refuses a seed already written to this database (a later call with
    `first_number` past the claims written before adds more of the same seed). With `workers`, that many processes
    plan the claims and write their files while this one writes the rows."""
    started = time.perf_counter()
    incident = _incident(incident_slug)
    generator = Generator(seed=seed, incident=incident)
    numbers = [_email(generator.ctx, number) for number in range(first_number, first_number + min(count, 20))]
    if User.objects.filter(email__in=numbers).exists():
        raise GenerationError(f"Seed {seed} was already generated in this database: use another seed.")
    report = GenerationReport()
    end = first_number + count
    batches = [range(start, min(end, start + batch_size)) for start in range(first_number, end, batch_size)]
    for plans, files in _planned_batches(generator.ctx, batches, workers):
        generator.write_batch(plans, report)
        report.files += files
        report.seconds = time.perf_counter() - started
        if progress:
            progress(report)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in (User, Claim, LossItem, Evidence, ClaimEvent, ConsentRecord, PowerOfAttorney):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    report.seconds = time.perf_counter() - started
    return report
