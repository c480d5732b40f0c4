"""
A third-party plugin, as a project would write one: which browsers an error
was seen with.

Enable it by adding ``"browsers"`` to ``INSTALLED_APPS``; see
``docs/plugins.rst`` for a walk-through of this code.
"""
