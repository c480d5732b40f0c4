"""URLs of the example project: the shop, the Sentry dashboard and the admin."""

from django.contrib import admin
from django.urls import include, path

# The site's 500 page quotes the id of the recorded error.
handler500 = "shop.views.server_error"

urlpatterns = [
    path("sentry/", include("sentry.urls")),
    # Source maps from sentry-cli (docs/ingest.rst).
    path("api/0/", include("sentry.upload_urls")),
    path("admin/", admin.site.urls),
    path("", include("shop.urls")),
]
