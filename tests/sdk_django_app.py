"""URLs and a failing view for the sentry-sdk Django integration test."""

from django.http import HttpResponse
from django.urls import path


def checkout(request, order_id):
    basket = {}
    if request.method == "POST":
        return HttpResponse(basket["missing"])
    return HttpResponse("ok")


urlpatterns = [path("orders/<int:order_id>/checkout/", checkout)]
