from django.urls import include, path

urlpatterns = [
    path("sentry/", include("sentry.urls")),
    # Source maps from sentry-cli (docs/ingest.rst).
    path("api/0/", include("sentry.upload_urls")),
]
