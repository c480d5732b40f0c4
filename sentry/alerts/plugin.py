"""The base of the bundled channel plugins: rules in, deliveries out."""

import logging
import time

from ..conf import settings
from ..plugins.base import Plugin
from . import config, flood, outbound, store
from .messages import BUILDERS, facts
from .rules import fires

logger = logging.getLogger("sentry.errors")


class ChannelPlugin(Plugin):
    """
    Deliver alerts to the channels of one kind that matching rules name.

    Subclasses set :attr:`kind` (a key of :data:`sentry.alerts.config.KINDS`);
    the message comes from :data:`sentry.alerts.messages.BUILDERS`.
    """

    kind = ""
    # Only the events that change a group's state, unless a rule counts
    # events (see wants_post_process): then every one.
    post_process_only_changes = True
    # Each delivery is retried on its own (below): a retry of the whole hook
    # would send again to the channels that did get the message.
    post_process_attempts = 1
    #: Tries per delivery, waiting :attr:`delivery_retry_delay` seconds, then
    #: twice as long...
    delivery_attempts = 3
    delivery_retry_delay = 1.0

    def wants_post_process(self):
        channels, rules = config.usable()
        # Asked once a batch, before the events are handed out: a rule that
        # counts events needs each one, the others only a group's changes
        # (which keeps the cost of every other event at nothing).
        self.post_process_only_changes = not any(
            rule.counted and any(channels[n].kind == self.kind for n in rule.channels)
            for rule in rules
        )
        return any(channel.kind == self.kind for channel in channels.values())

    def post_process(self, group, event, is_new, is_regression, **kwargs):
        channels, known = config.usable()
        is_unmuted = bool(kwargs.get("is_unmuted"))
        # Each channel gets one message an event, for the first rule that
        # sends it one (a rule that would only repeat it is not asked).
        targets = {}
        for rule in known:
            names = [
                name
                for name in rule.channels
                if name not in targets and channels[name].kind == self.kind
            ]
            if (
                names
                and rule.matches(group, event, is_new, is_regression, is_unmuted)
                and fires(rule, self.kind, group)
                and not flood.holds(self, rule, group)
            ):
                targets.update(dict.fromkeys(names, rule))
        for name, rule in targets.items():
            about = facts(group, event, is_new, is_regression, rule.reason())
            self.deliver_with_retries(
                channels[name], group, event, about, rule=rule.key
            )

    def deliver_with_retries(self, channel, group, event, about, rule=""):
        """
        Deliver, trying again on failure; log the last failure. Never raise.

        The outcome goes to the delivery log (:func:`sentry.alerts.store.record`)
        under ``rule``, the key of the rule that sent it.
        """
        for attempt in range(1, self.delivery_attempts + 1):
            try:
                response = self.deliver(channel, group, event, about)
                store.record(
                    channel,
                    group,
                    True,
                    rule=rule,
                    status=getattr(response, "status", None),
                    attempts=attempt,
                )
                return True
            except Exception as exc:
                final = isinstance(exc, outbound.DeliveryError) and exc.final
                if final or attempt == self.delivery_attempts:
                    store.record(
                        channel,
                        group,
                        False,
                        rule=rule,
                        status=getattr(exc, "status", None),
                        error=_reason(exc),
                        attempts=attempt,
                    )
                    # The URL's path and query hold the receiver's token: only
                    # its scheme and host are logged.
                    logger.error(
                        "Alert to channel %r (%s) not delivered after %d tries: %s",
                        channel.name,
                        channel.masked_url or channel.kind,
                        attempt,
                        _reason(exc),
                    )
                    return False
                time.sleep(self.delivery_retry_delay * 2 ** (attempt - 1))
        return False

    def deliver(self, channel, group, event, about):
        """
        Send one alert to ``channel``; raise when it was not accepted.

        Return the receiver's :class:`~sentry.alerts.outbound.Response`
        (its status goes to the delivery log), or None.

        ``about`` is :func:`sentry.alerts.messages.facts` of the event.
        """
        body, headers = BUILDERS[self.kind](about, channel)
        return outbound.post(channel.url, body, headers)


def _reason(exc):
    if isinstance(exc, outbound.DeliveryError):
        return exc.reason
    return type(exc).__name__


def send_test(channel, url):
    """
    Send ``channel`` a test message now, once; return what happened, as text.

    ``url`` is where the message links to. Raise :class:`outbound.DeliveryError`
    (or a mail error) when it was not delivered.
    """
    from django.core.mail import EmailMessage

    from .. import notifications
    from .messages import test_facts

    about = test_facts(url)
    if channel.kind == "mail":
        notifications.send(
            EmailMessage(
                subject=f"{settings.EMAIL_SUBJECT_PREFIX}Test notification",
                body=f"{about['title']}.\n\n{url}\n",
                to=list(channel.to),
            )
        )
        return f"mailed to {', '.join(channel.to)}"
    body, headers = BUILDERS[channel.kind](about, channel)
    response = outbound.post(channel.url, body, headers)
    return f"answered {response.status}"
