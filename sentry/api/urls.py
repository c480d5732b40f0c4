"""URLs of the JSON API, included by :mod:`sentry.urls` under ``api/v1/``."""

from django.urls import path

from . import views

urlpatterns = [
    path("groups/", views.groups, name="api-groups"),
    path("groups/<int:group_id>/", views.group, name="api-group"),
    path(
        "groups/<int:group_id>/occurrences/", views.occurrences, name="api-occurrences"
    ),
    path("groups/<int:group_id>/resolve/", views.resolve, name="api-resolve"),
    path("groups/<int:group_id>/unresolve/", views.unresolve, name="api-unresolve"),
    path("occurrences/<str:message_id>/", views.occurrence, name="api-occurrence"),
]
