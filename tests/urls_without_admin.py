"""A site that serves the dashboard but not Django's admin."""

from django.urls import include, path

urlpatterns = [path("sentry/", include("sentry.urls"))]
