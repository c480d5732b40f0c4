"""
The ``/api/0/`` endpoints ``sentry-cli`` uploads source maps to.

``sentry-cli`` takes only a server URL at a host's root, so these live at the
host's ``/api/0/``, not under the dashboard's mount. A host's root
``urls.py`` adds them with::

    path("api/0/", include("sentry.upload_urls")),
"""

from django.urls import path

from .sourcemaps import views

app_name = "sentry-upload"

urlpatterns = [
    path(
        "organizations/<str:org>/chunk-upload/",
        views.chunk_upload,
        name="chunk-upload",
    ),
    path(
        "organizations/<str:org>/artifactbundle/assemble/",
        views.assemble,
        name="artifactbundle-assemble",
    ),
]
