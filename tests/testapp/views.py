"""Views that fail in the ways the tests need."""

import logging

from django.db import IntegrityError, transaction
from django.http import HttpResponse

from .models import Widget

logger = logging.getLogger("tests.views")


class TemplateError(Exception):
    pass


def ok(request):
    return HttpResponse("ok")


def boom(request):
    secret_local = "visible"  # noqa: F841  (asserted in the captured frame)
    raise ValueError(f"boom {request.GET.get('n', '')}")


def broken_transaction(request):
    # Violates the unique constraint inside the request's transaction, so the
    # transaction is broken when the exception reaches Django's handler.
    Widget.objects.create(name="dup")
    Widget.objects.create(name="dup")
    return HttpResponse("unreachable")


def caught_in_atomic(request):
    from sentry.client.models import client

    with transaction.atomic():
        Widget.objects.create(name="first")
        try:
            Widget.objects.create(name="first")
        except IntegrityError:
            message_id = client.create_from_exception()
        # The host's transaction is broken now and will be rolled back.
    return HttpResponse(message_id or "")


def log_error(request):
    logger.error("order %s failed", request.GET.get("n"), extra={"request": request})
    return HttpResponse("logged")


async def async_caught(request):
    from sentry.client.models import client

    try:
        {}["missing"]
    except KeyError:
        message_id = client.create_from_exception()
    return HttpResponse(message_id or "")


async def async_boom(request):
    raise RuntimeError("async view failed")
