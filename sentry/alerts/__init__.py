"""
Alerts: rules that say when to tell someone, channels that say where.

Owns the channels and rules declared in settings
(:setting:`SENTRY_ALERT_CHANNELS`, :setting:`SENTRY_ALERT_RULES`), the
messages each kind of channel takes, and the outgoing requests
(:mod:`sentry.alerts.outbound`). Deliveries run in the bundled channel
plugins' ``post_process`` hook (:mod:`sentry.postprocess`): after the event
is committed, off the request path, never holding recording.
"""
