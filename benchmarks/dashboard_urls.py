"""URLs of the dashboard benchmark: the dashboard alone, where a site mounts it."""

from django.urls import include, path

urlpatterns = [path("sentry/", include("sentry.urls"))]
