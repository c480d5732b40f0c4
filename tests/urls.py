from django.contrib import admin
from django.urls import include, path

from tests.testapp import views

urlpatterns = [
    path("sentry/", include("sentry.urls")),
    # Source maps from sentry-cli (docs/ingest.rst).
    path("api/0/", include("sentry.upload_urls")),
    path("admin/", admin.site.urls),
    path("ok/", views.ok),
    path("boom/", views.boom, name="boom"),
    path("broken-transaction/", views.broken_transaction),
    path("caught-in-atomic/", views.caught_in_atomic),
    path("log-error/", views.log_error),
    path("async-caught/", views.async_caught),
    path("async-boom/", views.async_boom),
]
