"""The stream, a group and one occurrence."""

from django.contrib import auth
from django.contrib.auth import views as auth_views
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.views.decorators.http import require_POST

from ..constants import STATUS_RESOLVED, STATUS_UNRESOLVED
from ..filters import get_filters
from ..models import GroupedMessage, Message
from .access import login_required, staff_required

PAGE_SIZE = 50
SORTS = {
    "priority": "-score",
    "date": "-last_seen",
    "new": "-first_seen",
    "freq": "-times_seen",
}


@login_required
def index(request):
    sort = request.GET.get("sort", "priority")
    filters = get_filters(request)
    groups = GroupedMessage.objects.all()
    for stream_filter in filters:
        groups = stream_filter.apply(groups)
    groups = groups.order_by(SORTS.get(sort, "-score"), "-pk").defer(
        "data", "traceback"
    )
    page = Paginator(groups, PAGE_SIZE).get_page(request.GET.get("p"))
    query = request.GET.copy()
    query.pop("p", None)
    context = {
        "page": page,
        "sort": sort,
        "sorts": SORTS,
        "filters": [
            {
                "label": f.label,
                "column": f.column,
                "value": f.get_value(),
                "choices": f.get_choices(),
            }
            for f in filters
        ],
        "query": query.urlencode(),
    }
    return render(request, "sentry/index.html", context)


@login_required
def group(request, group_id):
    group = get_object_or_404(GroupedMessage, pk=group_id)
    message = group.message_set.order_by("-datetime", "-pk").first()
    return render(request, "sentry/group.html", {"group": group, "message": message})


@login_required
def message(request, group_id, message_id):
    group = get_object_or_404(GroupedMessage, pk=group_id)
    message = get_object_or_404(Message, group=group, message_id=message_id)
    return render(request, "sentry/group.html", {"group": group, "message": message})


@require_POST
@staff_required
def resolve(request, group_id):
    group = get_object_or_404(GroupedMessage, pk=group_id)
    if request.POST.get("unresolve"):
        changes = {"status": STATUS_UNRESOLVED, "resolved_at": None}
    else:
        changes = {"status": STATUS_RESOLVED, "resolved_at": timezone.now()}
    GroupedMessage.objects.filter(pk=group.pk).update(**changes)
    return redirect(
        request.POST.get("next") or reverse("sentry:group", args=[group.pk])
    )


class LoginView(auth_views.LoginView):
    template_name = "sentry/login.html"
    next_page = reverse_lazy("sentry:index")


def logout(request):
    if request.method == "POST":
        auth.logout(request)
    return redirect("sentry:login")
