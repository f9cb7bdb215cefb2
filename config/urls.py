"""URL routes: the admin, the REST API under /api/v1/, the OpenAPI schema and docs."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core.api.health import HealthApi

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/v1/health", HealthApi.as_view(), name="api-health"),
    path("api/v1/", include("campaigns.api.urls")),
    path("api/v1/", include("audiences.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

handler404 = "core.api.problems.api_not_found"
handler500 = "core.api.problems.api_server_error"
