"""Profile routes (/api/v1/profiles...).

The value is matched with ``path`` so identities containing ``/`` (allowed in
an email's local part and in custom ids) still reach the view; ``profiles:batch``
is a literal path (the colon is an ordinary character to Django).
"""

from __future__ import annotations

from django.urls import URLPattern, path

from audiences.api.profiles import ProfileBatchApi, ProfileDetailApi

urlpatterns: list[URLPattern] = [
    path("profiles:batch", ProfileBatchApi.as_view(), name="api-profiles-batch"),
    path("profiles/<str:namespace>/<path:value>", ProfileDetailApi.as_view(), name="api-profile"),
]
