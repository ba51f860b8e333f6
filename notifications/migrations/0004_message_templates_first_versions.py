"""The first published version of every message template, in Korean and English, with no 알림톡 code yet: they go as
SMS until Kakao approves the 알림톡 texts and staff add a version with the provider's template codes
(docs/providers/messages.md)."""

from django.db import migrations
from django.utils import timezone

FIRST_VERSIONS = {
    "phone_code": (
        "[카카오장애소송] 인증번호 #{code} (#{minutes}분 안에 입력해 주세요)",
        "[Kakao outage suit] Your code is #{code} (enter it within #{minutes} minutes)",
    ),
    "claim_received": (
        "[카카오 장애 공동소송] 참여 신청이 접수되었습니다.\n접수번호: #{reference}\n진행 상황: #{url}",
        "[Kakao outage suit] We received your claim.\nReference: #{reference}\nProgress: #{url}",
    ),
    "information_requested": (
        "[카카오 장애 공동소송] 접수번호 #{reference} 신청에 추가 자료가 필요합니다.\n"
        "제출 기한: #{due}\n자료 보내기: #{url}",
        "[Kakao outage suit] Your claim #{reference} needs more information.\nDue: #{due}\nAnswer here: #{url}",
    ),
    "reminder_before_due": (
        "[카카오 장애 공동소송] 접수번호 #{reference}: 추가 자료 제출 기한(#{due})이 다가옵니다.\n자료 보내기: #{url}",
        "[Kakao outage suit] Claim #{reference}: the information we asked for is due on #{due}.\nAnswer here: #{url}",
    ),
    "reminder_after_due": (
        "[카카오 장애 공동소송] 접수번호 #{reference}: 추가 자료 제출 기한(#{due})이 지났습니다. "
        "자료가 없으면 소송에 포함되지 않을 수 있습니다.\n자료 보내기: #{url}",
        "[Kakao outage suit] Claim #{reference}: the information we asked for was due on #{due}. "
        "Without it your claim may not be filed.\nAnswer here: #{url}",
    ),
    "status_changed": (
        "[카카오 장애 공동소송] 접수번호 #{reference}: #{status}\n자세히 보기: #{url}",
        "[Kakao outage suit] Claim #{reference}: #{status}\nDetails: #{url}",
    ),
    "wave_filed": (
        "[카카오 장애 공동소송] 접수번호 #{reference} 신청이 포함된 소장을 #{court}에 제출했습니다.\n"
        "사건번호: #{case_number}",
        "[Kakao outage suit] The complaint including your claim #{reference} was filed with #{court}.\n"
        "Case number: #{case_number}",
    ),
    "payment_receipt": (
        "[카카오 장애 공동소송] #{amount}원 결제가 완료되었습니다 (#{paid_at}).\n영수증: #{url}",
        "[Kakao outage suit] Payment of #{amount} won received (#{paid_at}).\nReceipt: #{url}",
    ),
    "refund_receipt": (
        "[카카오 장애 공동소송] #{amount}원을 환불했습니다 (#{refunded_at}).\n영수증: #{url}",
        "[Kakao outage suit] #{amount} won refunded (#{refunded_at}).\nReceipt: #{url}",
    ),
    "marketing": (
        "(광고)[카카오 장애 공동소송]\n#{message}\n무료수신거부 #{opt_out}",
        "(Ad)[Kakao outage suit]\n#{message}\nFree opt-out #{opt_out}",
    ),
}


def publish(apps, schema_editor):
    MessageTemplate = apps.get_model("notifications", "MessageTemplate")
    now = timezone.now()
    for kind, (text_ko, text_en) in FIRST_VERSIONS.items():
        MessageTemplate.objects.get_or_create(
            kind=kind, version=1, defaults={"text_ko": text_ko, "text_en": text_en, "published_at": now}
        )


class Migration(migrations.Migration):
    dependencies = [("notifications", "0003_message_templates_and_contact_preferences")]

    operations = [migrations.RunPython(publish, migrations.RunPython.noop)]
