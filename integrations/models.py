"""The integrations' models live with their provider's package; this module registers them with Django."""

from integrations.identity.models import SandboxIdentityRequest  # noqa: F401
from integrations.payments.models import SandboxPayment, SandboxPaymentCancellation  # noqa: F401
