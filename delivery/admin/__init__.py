"""Admin for delivery: executions and messages (read-only), the rendered message, and
what delivery adds to the pages of lower apps (a profile's messages, a campaign's
"send test"), since those apps cannot import delivery."""

from delivery.admin import (
    executions,  # noqa: F401
    messages,  # noqa: F401
    profiles,  # noqa: F401
    send_test,  # noqa: F401
    webhooks,  # noqa: F401
)
