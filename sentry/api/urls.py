"""URLs of the JSON API, included by :mod:`sentry.urls` under ``api/v1/``."""

from django.urls import path

from ..params import register_id_converter
from . import views, workflow

register_id_converter()

urlpatterns = [
    path("groups/", views.groups, name="api-groups"),
    path("groups/<sentry_id:group_id>/", views.group, name="api-group"),
    path(
        "groups/<sentry_id:group_id>/occurrences/",
        views.occurrences,
        name="api-occurrences",
    ),
    path("groups/<sentry_id:group_id>/resolve/", workflow.resolve, name="api-resolve"),
    path(
        "groups/<sentry_id:group_id>/unresolve/", views.unresolve, name="api-unresolve"
    ),
    path("groups/<sentry_id:group_id>/mute/", workflow.mute, name="api-mute"),
    path("groups/<sentry_id:group_id>/unmute/", workflow.unmute, name="api-unmute"),
    path("groups/<sentry_id:group_id>/history/", workflow.history, name="api-history"),
    path(
        "groups/<sentry_id:group_id>/comments/",
        workflow.comments,
        name="api-comments",
    ),
    path(
        "groups/<sentry_id:group_id>/comments/<sentry_id:comment_id>/",
        workflow.comment,
        name="api-comment",
    ),
    path("occurrences/<str:message_id>/", views.occurrence, name="api-occurrence"),
]
