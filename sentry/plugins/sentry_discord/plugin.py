from ...alerts.plugin import ChannelPlugin


class DiscordPlugin(ChannelPlugin):
    """Alerts to the ``"discord"`` channels of SENTRY_ALERT_CHANNELS."""

    slug = "discord"
    title = "Discord"
    kind = "discord"
