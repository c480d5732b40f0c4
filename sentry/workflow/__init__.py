"""
The workflow around a group: muting, its history and comments.

``models`` holds the history (:class:`GroupActivity`), ``mute`` the mute
conditions and the changes of state that record themselves, ``comments``
how a comment is checked and shown. Storing events (:mod:`sentry.storage`)
writes the history of what events do (first seen, regressed, unmuted) in
the transaction that counts them; the views and the API write the rest.
"""
