from django.urls import include, path

urlpatterns = [path("sentry/", include("sentry.urls"))]
