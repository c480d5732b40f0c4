from ...alerts.plugin import ChannelPlugin


class WebhooksPlugin(ChannelPlugin):
    """Alerts to the ``"webhook"`` channels of SENTRY_ALERT_CHANNELS."""

    slug = "webhook"
    title = "Webhooks"
    kind = "webhook"
