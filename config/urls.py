"""URL routes: the admin, the REST API under /api/v1/, the OpenAPI schema and docs,
and the tracking and unsubscribe links of sent messages."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core.api.health import HealthApi
from core.views import language_switch, preferences_view


class FaviconRedirect(RedirectView):
    """/favicon.ico, which browsers ask for on every page: Clarion's SVG icon.

    Resolved per request, so a hashing static storage would still get its URL right.
    """

    permanent = False

    def get_redirect_url(self, *args: Any, **kwargs: Any) -> str:
        return static("clarion/favicon.svg")


urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("favicon.ico", FaviconRedirect.as_view()),
    # A person's language (the header's switcher, the login page's too) and time zone.
    path("i18n/language/", language_switch, name="clarion-language"),
    path("admin/preferences/", admin.site.admin_view(preferences_view), name="clarion-preferences"),
    path("admin/", admin.site.urls),
    # Provider webhooks: email providers (anymail) and Twilio (delivery/inbound/).
    path("hooks/", include("delivery.inbound.urls")),
    path("api/v1/health", HealthApi.as_view(), name="api-health"),
    path("api/v1/", include("campaigns.api.urls")),
    path("api/v1/", include("audiences.api.urls")),
    path("api/v1/", include("delivery.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    # Opens, clicks and unsubscribes from sent messages (docs/tracking.md).
    path("", include("delivery.tracking.urls")),
]

handler404 = "core.api.problems.api_not_found"
handler500 = "core.api.problems.api_server_error"
