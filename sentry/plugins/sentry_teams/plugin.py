from ...alerts.plugin import ChannelPlugin


class TeamsPlugin(ChannelPlugin):
    """Alerts to the ``"teams"`` channels of SENTRY_ALERT_CHANNELS."""

    slug = "teams"
    title = "Teams"
    kind = "teams"
