"""``manage.py sentry_createtoken USERNAME``: an API and feed token."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from sentry.api.tokens import DEFAULT_SCOPES, SCOPES, ApiToken
from sentry.views.access import can_view


class Command(BaseCommand):
    help = "Create an API token that acts as USERNAME and print it (shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--label", default="", help="What the token is for.")
        parser.add_argument(
            "--scope",
            action="append",
            choices=sorted(SCOPES),
            dest="scopes",
            help=(
                "What the token may do; repeat for several. "
                + "; ".join(f"{name}: {what}" for name, what in SCOPES.items())
                + f". Default: {', '.join(DEFAULT_SCOPES)}."
            ),
        )
        parser.add_argument(
            "--expires-in-days",
            type=int,
            default=None,
            help="Days after which the token stops working (default: never).",
        )

    def handle(self, *args, username, label, scopes, expires_in_days, **options):
        User = get_user_model()
        try:
            user = User._default_manager.get_by_natural_key(username)
        except User.DoesNotExist:
            raise CommandError(f"No user {username!r}.")
        if not can_view(user):
            raise CommandError(
                f"{username!r} may not see the dashboard (staff, or the "
                "sentry.view_groupedmessage permission): a token would be useless."
            )
        expires = None
        if expires_in_days is not None:
            if expires_in_days < 1:
                raise CommandError("--expires-in-days must be 1 or more.")
            expires = timezone.now() + dt.timedelta(days=expires_in_days)
        row, plaintext = ApiToken.objects.create_token(
            user, label=label, scopes=scopes or DEFAULT_SCOPES, expires=expires
        )
        self.stdout.write(plaintext)
        if options["verbosity"] >= 1:
            until = f"until {row.expires:%Y-%m-%d %H:%M} UTC" if expires else "forever"
            self.stderr.write(
                f"Scopes: {row.scopes}; valid {until}. Keep it secret: only its "
                "digest is stored. Send it as 'Authorization: Bearer <token>' "
                "(event:read, event:write), or as ?token=<token> for feeds "
                "(feed:read)."
            )
