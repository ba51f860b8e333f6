"""The claimant's profile: the name and address that go on the complaint, and a phone number to reach them;
optionally the account any recovered amount is paid into."""

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext_lazy

from accounts.models import User, bank_account_number_validator
from accounts.validators import date_of_birth_validate, mobile_phone_normalize, postal_code_validate
from config.crypto import digits_only
from core.personal_data import personal_data_contributors

PROFILE_FIELD_LABELS = {
    "legal_name": gettext_lazy("성명"),
    "date_of_birth": gettext_lazy("생년월일"),
    "phone": gettext_lazy("휴대전화"),
    "postal_code": gettext_lazy("우편번호"),
    "address": gettext_lazy("주소"),
    "address_detail": gettext_lazy("상세주소"),
    "bank_name": gettext_lazy("은행"),
    "bank_account": gettext_lazy("계좌번호"),
}


@transaction.atomic
def profile_update(
    *,
    user: User,
    legal_name: str,
    date_of_birth: dt.date,
    phone: str,
    postal_code: str,
    address: str,
    address_detail: str = "",
    bank_name: str = "",
    bank_account: str = "",
    bank_account_remove: bool = False,
) -> User:
    """Save the profile (phone stored as 01012345678; a changed number is no longer verified). Filed claims get a
    timeline entry naming what changed, so staff know the complaint's plaintiff details need updating; the values
    themselves stay out of the log.

    The payout account is optional and stored encrypted as digits: an empty `bank_account` keeps the stored
    number, `bank_account_remove` clears the bank and the number."""
    user = User.objects.select_for_update().get(pk=user.pk)
    date_of_birth_validate(date_of_birth)
    postal_code_validate(postal_code)
    if bank_account_remove:
        bank_name, bank_account = "", ""
    elif bank_account:
        bank_account_number_validator(bank_account)
        bank_account = digits_only(bank_account)
    else:
        bank_account = user.bank_account
    values = {
        "legal_name": " ".join(legal_name.split()),
        "date_of_birth": date_of_birth,
        "phone": mobile_phone_normalize(phone),
        "postal_code": postal_code,
        "address": address.strip(),
        "address_detail": address_detail.strip(),
        "bank_name": " ".join(bank_name.split()),
        "bank_account": bank_account,
    }
    changed = [name for name, value in values.items() if getattr(user, name) != value]
    if not changed:
        return user
    for name, value in values.items():
        setattr(user, name, value)
    verified = []
    if "phone" in changed and user.phone_verified_at:  # a new number is not proved until its code is entered
        user.phone_verified_at, verified = None, ["phone_verified_at"]
    user.full_clean(exclude=["password"])
    digest = ["bank_account_digest"] if "bank_account" in changed else []
    user.save(update_fields=changed + digest + verified)
    labels = ", ".join(str(PROFILE_FIELD_LABELS[name]) for name in changed)
    for contributor in personal_data_contributors():  # filed claims note it (claims.services.personal_data)
        contributor.profile_changed(user=user, fields=changed, labels=labels)
    return user
