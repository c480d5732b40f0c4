"""
Releases: the versions of a project's code its events come from.

``models`` holds :class:`Release` (one row per project and version, with
when it was first seen), ``versions`` how two releases are ordered,
``resolve`` resolving a group "in a release" and the rule that decides
whether an event reopens it. The storage (:mod:`sentry.storage`) creates the
releases of each batch and keeps a group's first and last release in the
transaction that counts its events.
"""
