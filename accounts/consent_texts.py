"""Version 1 of the consent documents, loaded by a data migration into every new database.

The texts are the firm's legal documents, so they are data, not translated UI strings: staff change them by
publishing a new version in the admin. `{{ name }}`-style placeholders are filled with the claimant's details
(see `accounts.services.consents.CONSENT_PLACEHOLDERS`).
"""

from django.utils import timezone

from config.hashing import sha256_hex

# Marks the example firm details below; the admin index warns while a current document still carries it.
EXAMPLE_MARKER = "(예시)"

PRIVACY_REQUIRED_TITLE = "개인정보 수집·이용 및 제공 동의서 (필수)"
PRIVACY_REQUIRED_BODY = """\
법무법인 ○○ (예시)(이하 "법무법인")는 「개인정보 보호법」에 따라 아래와 같이 {{ name }}님의 개인정보를 수집·이용하고 제공합니다. 끝까지 읽어 보신 뒤 동의 여부를 정해 주세요.

1. 수집·이용 목적
가. 2022년 10월 15일 SK C&C 판교 데이터센터 화재로 인한 카카오 서비스 장애(이하 "이 사건 장애")에 관한 손해배상 청구 공동소송(이하 "이 사건 소송")의 원고 참여 신청 접수와 본인 확인
나. 참여 자격과 손해 내용의 검토, 손해액 산정, 소장·원고 목록·증거 자료의 작성과 법원 제출
다. 자료 보완 요청, 소송 진행 상황 안내 등 소송 수행에 꼭 필요한 연락
라. 판결·화해 등으로 배상금을 받게 되는 경우 그 분배와 정산

2. 수집 항목
가. 모든 참여자: 성명, 생년월일, 휴대전화 번호, 이메일 주소, 주소
나. 사업자로 참여하는 경우: 상호, 사업자등록번호, 업종, 매출 자료 등 사업에 관한 정보
다. 손해에 관한 정보: 이용하던 서비스, 장애로 입은 손해의 내용과 금액, 이를 뒷받침하는 증빙 자료(화면 캡처, 이용·결제 내역, 매출 자료, 영수증 등)
라. 배상금을 지급하게 되는 경우에만: 은행명, 계좌번호, 예금주. 지급할 때 따로 받으며 암호화하여 보관합니다.
마. 이용 과정에서 자동으로 생기는 정보: 접속 IP 주소, 접속 일시, 브라우저 정보. 동의와 서명이 본인의 것임을 증명하고 부정 이용을 막는 데에만 씁니다.
주민등록번호는 받지 않습니다. 올리시는 서류에 주민등록번호가 보이면 뒷자리를 가려 주세요.

3. 보유·이용 기간
이 사건 소송이 판결 확정, 화해, 취하 등으로 끝나고 배상금 분배와 보수 정산을 마친 날부터 5년간 보관한 뒤 지체 없이 파기합니다. 위임 사무의 처리와 보수를 두고 다툼이 생기는 경우 이를 증명하기 위해 필요한 기간입니다.
참여를 철회하시면 소송 수행을 위한 정보는 지체 없이 파기합니다. 다만 동의·철회·위임 사실을 증명하는 기록(동의 기록과 서명된 소송위임장)은 다른 정보와 분리하여 위 기간까지만 보관합니다.

4. 개인정보의 제공
이 사건 소송을 수행하기 위해 성명, 주소, 청구 금액과 손해에 관한 정보 및 증빙 자료를 소장과 증거 자료에 담아 법원에 제출하며, 이 자료는 소송 절차에 따라 피고(주식회사 카카오 등)와 그 소송대리인에게 송달됩니다. 제공받는 자는 이 자료를 이 사건 소송의 심리와 방어에만 이용하며, 보유 기간은 관계 법령과 소송 기록 보존 기간에 따릅니다.

5. 동의를 거부할 권리와 거부할 경우의 불이익
{{ name }}님은 이 동의를 거부할 권리가 있습니다. 다만 위 정보는 원고로 소송에 참여하는 데 꼭 필요한 최소한의 정보이므로, 동의하지 않으시면 이 사건 소송에 참여하실 수 없습니다.

6. 동의의 철회
이 동의는 언제든지 이 사이트의 "동의 관리" 화면에서 철회할 수 있습니다. 철회하시면 이 사건 소송에서 빠지게 되며 소송위임도 함께 해지됩니다. 이미 소가 제기된 뒤라면 법무법인이 {{ name }}님에 관한 소를 취하하는 등 필요한 절차를 밟습니다.
"""

PRIVACY_OPTIONAL_TITLE = "소송 소식 수신을 위한 개인정보 이용 동의서 (선택)"
PRIVACY_OPTIONAL_BODY = """\
법무법인 ○○ (예시)(이하 "법무법인")는 아래와 같이 {{ name }}님께 이 사건 소송의 소식을 보내 드리기 위해 개인정보를 이용합니다. 이 동의는 선택 사항이며, 필수 동의와 따로 받습니다.

1. 이용 목적
카카오 서비스 장애 손해배상 청구 공동소송의 진행 소식(소 제기, 변론기일, 판결과 화해 결과, 배상금 지급 일정 등)과 참여 방법 안내를 이메일과 문자메시지(SMS)로 보내 드립니다.

2. 이용 항목
이메일 주소, 휴대전화 번호

3. 보유·이용 기간
동의를 철회하시거나 이 사건 소송이 끝날 때까지 이용하며, 그 뒤에는 이 목적으로 이용하지 않습니다.

4. 동의를 거부할 권리와 거부할 경우의 불이익
이 동의를 거부하셔도 소송 참여에는 아무런 불이익이 없습니다. 자료 보완 요청처럼 소송 수행에 꼭 필요한 연락은 필수 동의에 따라 계속 드립니다.

5. 동의의 철회
이 동의는 언제든지 "동의 관리" 화면에서 철회할 수 있으며, 철회한 뒤에는 소식을 보내 드리지 않습니다.
"""

POWER_OF_ATTORNEY_TITLE = "소송위임장 및 보수 약정서"
POWER_OF_ATTORNEY_BODY = """\
소송위임장

사 건: 카카오 서비스 장애 손해배상 청구 공동소송
원 고: {{ name }} 외
피 고: 주식회사 카카오 등

위 사건에 관하여 위임인은 아래 수임인을 소송대리인으로 선임하고, 다음 사항을 위임합니다.

수임인: 법무법인 ○○ (예시)
주 소: 서울특별시 ○○구 ○○로 ○○ (예시)
담당변호사: 변호사 ○○○ (예시)

수권 사항
1. 일체의 소송행위 (소의 제기, 변론, 증거의 제출과 신청 등)
2. 반소의 제기 및 응소, 상소의 제기. 다만 상소를 제기하기 전에는 위임인에게 알리고 그 뜻을 확인합니다.
3. 복대리인의 선임
4. 목적물의 수령 (배상금과 그 지연손해금의 수령을 포함합니다)
5. 공탁물의 납부, 공탁물 및 이자의 반환청구와 수령
6. 담보권 행사 최고신청, 담보취소신청과 그 신청에 대한 동의, 담보취소결정 정본의 수령, 그 취소결정에 대한 항고권의 포기
7. 강제집행 및 가압류·가처분 등 보전처분에 관한 모든 소송행위
8. 소송비용액 확정신청, 인지 환급의 청구와 수령에 관한 모든 행위
9. 소의 취하, 화해, 조정, 청구의 포기·인낙, 소송탈퇴, 상소의 취하. 이 행위들은 위임인이 그때마다 따로 서면(전자문서를 포함합니다)으로 동의한 경우에만 할 수 있습니다.

보수 약정
1. 착수금: 금 20,000원 (부가가치세 포함). 서명 후 안내하는 방법으로 냅니다. 소를 제기하기 전에 참여를 철회하시면 전액 돌려드리고, 소를 제기한 뒤에는 돌려드리지 않습니다.
2. 성공보수: 판결, 화해, 조정 등으로 피고로부터 실제로 받은 금액(원금, 지연손해금, 소송비용 상환액을 포함합니다)의 20% (부가가치세 포함). 실제로 받은 금액이 없으면 성공보수도 없습니다.
3. 성공보수는 받은 금액에서 빼고 나머지를 위임인에게 지급하며, 지급할 때 정산 내역을 알려 드립니다.
4. 인지대와 송달료 등 법원에 내는 비용은 법무법인이 부담합니다. 다만 패소하는 경우 법원이 정한 상대방의 소송비용 가운데 위임인의 몫은 위임인이 부담할 수 있습니다.
5. 위임인은 언제든지 위임을 해지(참여 철회)할 수 있습니다.

위 내용을 모두 확인하고 이 소송위임장에 서명합니다.

위임인
성 명: {{ name }}
생년월일: {{ date_of_birth }}
주 소: {{ address }}
휴대전화: {{ phone }}
이메일: {{ email }}
서명일: {{ date }}
"""

SEED = (
    ("privacy_required", PRIVACY_REQUIRED_TITLE, PRIVACY_REQUIRED_BODY, True),
    ("privacy_optional", PRIVACY_OPTIONAL_TITLE, PRIVACY_OPTIONAL_BODY, False),
    ("power_of_attorney", POWER_OF_ATTORNEY_TITLE, POWER_OF_ATTORNEY_BODY, True),
)


def consent_documents_seed(*, document_model) -> None:
    """Publish version 1 of each document unless that kind already has one (idempotent).

    Takes the model class so the data migration can pass its historical model.
    """
    now = timezone.now()
    for kind, title, body, is_required in SEED:
        document_model.objects.get_or_create(
            kind=kind,
            version=1,
            defaults={
                "title": title,
                "body": body,
                "is_required": is_required,
                "text_sha256": sha256_hex(body),
                "published_at": now,
            },
        )
