from ...alerts.plugin import ChannelPlugin


class SlackPlugin(ChannelPlugin):
    """Alerts to the ``"slack"`` channels of SENTRY_ALERT_CHANNELS."""

    slug = "slack"
    title = "Slack"
    kind = "slack"
