"""``manage.py sentry_createtoken USERNAME``: an API and feed token."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from sentry.api.tokens import ApiToken
from sentry.views.access import can_view


class Command(BaseCommand):
    help = "Create an API token that acts as USERNAME and print it (shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--label", default="", help="What the token is for.")

    def handle(self, *args, username, label, **options):
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
        _, plaintext = ApiToken.objects.create_token(user, label=label)
        self.stdout.write(plaintext)
        if options["verbosity"] >= 1:
            self.stderr.write(
                "Keep it secret: only its digest is stored. Send it as "
                "'Authorization: Bearer <token>', or as ?token=<token> for feeds."
            )
