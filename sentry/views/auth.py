"""Log in and log out of the dashboard."""

from django.contrib import auth
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect
from django.urls import reverse_lazy
from django.views.decorators.http import require_http_methods

from .access import add_security_headers


class LoginView(auth_views.LoginView):
    """Django's login view with the dashboard's template and headers."""

    template_name = "sentry/login.html"
    next_page = reverse_lazy("sentry:index")

    def dispatch(self, request, *args, **kwargs):
        return add_security_headers(super().dispatch(request, *args, **kwargs))


@require_http_methods(["GET", "POST"])
def logout(request):
    """Log out on POST (a GET, which anyone can trigger, only shows the login)."""
    if request.method == "POST":
        auth.logout(request)
    return add_security_headers(redirect("sentry:login"))
