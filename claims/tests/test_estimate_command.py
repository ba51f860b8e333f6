"""`manage.py estimate`: claims described in JSON, estimated with the incident's model, printed as JSON."""

import json
import os
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from claims.damages import DEFAULT_PARAMETERS, FLAG_NO_PROOF_OF_USE, FLAG_REVENUE_WITHOUT_EVIDENCE
from claims.tests.factories import DamageModelVersionFactory

pytestmark = pytest.mark.django_db

KAKAO_T_DRIVER = {
    "claimant_type": "individual",
    "loss_items": [
        {"service": "kakao-t", "kind": "subscription", "monthly_fee": 39_000, "description": "카카오T 프로 멤버십"},
        {"service": "kakao-t", "kind": "subscription", "monthly_fee": 22_000, "description": "대리 프로 요금제"},
    ],
}


def run(tmp_path, data, *args) -> list[dict]:
    path = tmp_path / "claims.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = StringIO()
    call_command("estimate", "--input", str(path), *args, stdout=out)
    return json.loads(out.getvalue())


def test_worked_checks_come_out_to_the_won_and_nothing_is_written(tmp_path):
    with CaptureQueriesContext(connection) as queries:
        (result,) = run(tmp_path, [KAKAO_T_DRIVER])

    subscription = [c for c in result["components"] if c["rule"] == "subscription"]
    assert [c["amount"] for c in subscription] == [7_550, 4_260]
    assert [c["ref"] for c in subscription] == ["0", "1"]
    assert subscription[0]["explanation"]["ko"].startswith("카카오T (택시·대리 등) 월 이용료 39,000원 × 피해일수 2일")
    assert result["total"] == 11_810
    assert result["model_version"] == 1
    assert result["incident"] == "pangyo-dc-fire-2022"
    assert result["flags"] == [FLAG_NO_PROOF_OF_USE]
    assert result["parameters"] == DEFAULT_PARAMETERS
    assert len(result["inputs_sha256"]) == 64
    assert all(q["sql"].lstrip().upper().startswith("SELECT") for q in queries.captured_queries)


def test_the_output_is_utf8_json_with_korean_kept_readable(tmp_path):
    path = tmp_path / "claims.json"
    path.write_text(json.dumps({"claims": [KAKAO_T_DRIVER]}), encoding="utf-8")
    out = StringIO()

    call_command("estimate", "--input", str(path), stdout=out)

    assert "카카오T" in out.getvalue() and "\\uc" not in out.getvalue()


def test_revenue_expense_proof_and_compensation(tmp_path):
    claim = {
        "claimant_type": "sole_proprietor",
        "already_compensated": 30_000,
        "proof_of_use": True,
        "revenue_evidence": False,
        "loss_items": [
            {
                "service": "talk-channel",
                "kind": "business_revenue",
                "comparison_revenue": 2_000_000,
                "outage_revenue": 1_200_000,
                "affected_hours": 200,
            },
            {"service": "alimtalk", "kind": "expense", "amount": 45_000, "has_evidence": True},
            {"service": "alimtalk", "kind": "other", "amount": 99_000, "description": "고객 이탈"},
        ],
    }

    (result,) = run(tmp_path, {"claims": [claim]})

    amounts = {c["rule"]: c["amount"] for c in result["components"]}
    assert amounts == {
        "business_revenue": 800_000,
        "expense": 45_000,
        "other": 0,
        "solatium": 100_000,
        "compensation_deducted": -30_000,
    }
    assert result["total"] == 915_000
    assert result["claimant_type"] == "sole_proprietor"
    assert result["reference_code"] == "individual_review"
    assert set(result["flags"]) == {"hours_exceed_window", FLAG_REVENUE_WITHOUT_EVIDENCE}


def test_a_named_model_version_is_used_instead_of_the_active_one(tmp_path):
    DamageModelVersionFactory(parameters={**DEFAULT_PARAMETERS, "subscription_multiplier": "1"})

    active, draft = run(tmp_path, [KAKAO_T_DRIVER]), run(tmp_path, [KAKAO_T_DRIVER], "--model-version", "2")

    assert active[0]["total"] == 11_810
    assert draft[0]["model_version"] == 2
    assert draft[0]["total"] == 2_520 + 1_420


@pytest.mark.parametrize(
    ("claim", "message"),
    [
        (
            {"loss_items": [{"service": "kakao-tt", "kind": "subscription", "monthly_fee": 1}]},
            "claims[1].loss_items[0].service: 사고 pangyo-dc-fire-2022에 없는 서비스 'kakao-tt'",
        ),
        (
            {"loss_items": [{"service": "kakao-t", "kind": "refund", "amount": 1}]},
            "claims[1].loss_items[0].kind: 알 수 없는 손해 종류 'refund' (subscription, business_revenue, expense",
        ),
        (
            {"loss_items": [{"service": "kakao-t", "kind": "subscription"}]},
            "claims[1].loss_items[0]: subscription 항목에는 monthly_fee가 필요합니다",
        ),
        (
            {"loss_items": [{"service": "kakao-t", "kind": "subscription", "monthly_fee": -5}]},
            "claims[1].loss_items[0].monthly_fee: 0 이상의 정수(원)여야 합니다",
        ),
        (
            {"loss_items": [{"service": "kakao-t", "kind": "expense", "amount": 5, "monthly_fee": 5}]},
            "claims[1].loss_items[0]: expense 항목에는 monthly_fee를 쓰지 않습니다",
        ),
        (
            {"loss_items": [{"service": "kakao-t", "kind": "other", "amount": 5, "monthy_fee": 5}]},
            "claims[1].loss_items[0]: 알 수 없는 항목 monthy_fee",
        ),
        ({"incident": "nowhere", "loss_items": []}, "claims[1].incident: 알 수 없는 사고 'nowhere'"),
        ({"claimant_type": "alien"}, "claims[1].claimant_type: individual, sole_proprietor, company 중 하나"),
        ({"proof_of_use": "yes"}, "claims[1].proof_of_use: true 또는 false여야 합니다"),
        ("not a claim", "claims[1]: 객체({...})여야 합니다"),
    ],
)
def test_bad_input_is_refused_with_where_and_why(tmp_path, claim, message):
    with pytest.raises(CommandError) as refused:
        run(tmp_path, [KAKAO_T_DRIVER, claim])
    assert message in str(refused.value)


def test_every_problem_is_listed_at_once(tmp_path):
    bad = {"loss_items": [{"service": "x", "kind": "subscription", "monthly_fee": 1}]}
    with pytest.raises(CommandError) as refused:
        run(tmp_path, [bad, KAKAO_T_DRIVER, bad])
    assert "claims[0].loss_items[0].service" in str(refused.value)
    assert "claims[2].loss_items[0].service" in str(refused.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "입력이 올바른 JSON(UTF-8)이 아닙니다"),
        ('{"claim": []}', '입력은 신청의 목록이거나 {"claims": [...]} 형식이어야 합니다.'),
    ],
)
def test_unreadable_input_is_refused(tmp_path, content, message):
    path = tmp_path / "claims.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("estimate", "--input", str(path), stdout=StringIO())


def test_a_missing_file_or_model_version_is_refused(tmp_path):
    with pytest.raises(CommandError, match="입력 파일을 읽을 수 없습니다"):
        call_command("estimate", "--input", str(tmp_path / "missing.json"), stdout=StringIO())
    with pytest.raises(CommandError, match="사고 pangyo-dc-fire-2022에 모델 버전 7이\\(가\\) 없습니다"):
        run(tmp_path, [KAKAO_T_DRIVER], "--model-version", "7")


def manage_py_estimate(*args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess:
    """`python manage.py estimate ...` as a user runs it (the default settings, the default log level), against the
    test database: the reference data and the active model come from its migrations."""
    db = settings.DATABASES["default"]
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DJANGO_LOG_LEVEL": "INFO",
        **env,
    }
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "estimate", *args],
        cwd=Path(settings.BASE_DIR),
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "env",
    [
        {},
        {"DJANGO_LOG_FORMAT": "json"},
        # A .env that names stdout for the web and worker processes does not put log lines into a command's output.
        {"DJANGO_LOG_STREAM": "stdout"},
    ],
)
def test_stdout_is_only_the_json_and_the_log_lines_go_to_stderr(tmp_path, env):
    path = tmp_path / "claims.json"
    path.write_text(json.dumps([KAKAO_T_DRIVER], ensure_ascii=False), encoding="utf-8")

    result = manage_py_estimate("--input", str(path), **env)

    assert result.returncode == 0, result.stderr
    (estimate_,) = json.loads(result.stdout)
    assert estimate_["total"] == 11_810
    # Django's start-up logs an INFO line (django-axes' banner): it is on stderr, in the chosen format.
    assert "AXES: BEGIN" in result.stderr
    if env.get("DJANGO_LOG_FORMAT") == "json":
        assert json.loads(result.stderr.splitlines()[0])["level"] == "INFO"


@pytest.mark.django_db(transaction=True)
def test_a_pipe_in_and_out_gives_the_same_json(tmp_path):
    data = json.dumps({"claims": [KAKAO_T_DRIVER, KAKAO_T_DRIVER]}, ensure_ascii=False)

    result = manage_py_estimate("--input", "-", stdin=data)

    assert result.returncode == 0, result.stderr
    assert [estimate_["index"] for estimate_ in json.loads(result.stdout)] == [0, 1]
    assert "AXES: BEGIN" in result.stderr


@pytest.mark.django_db(transaction=True)
def test_an_input_error_leaves_stdout_empty_and_says_why_on_stderr(tmp_path):
    result = manage_py_estimate("--input", "-", stdin='[{"loss_items": [{"service": "nowhere", "kind": "other"}]}]')

    assert result.returncode == 1
    assert result.stdout == ""
    assert "claims[0].loss_items[0].service" in result.stderr
