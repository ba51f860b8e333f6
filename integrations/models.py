from integrations.identity.models import SandboxIdentityRequest  # noqa: F401
