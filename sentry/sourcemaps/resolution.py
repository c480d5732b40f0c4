"""The mark the digest leaves on a frame it applied source maps to."""


class Resolution(dict):
    """
    What the digest's source maps did to a frame, under ``frame["sourcemap"]``.

    A class of its own so that the mapping keeps only these: a payload's
    JSON cannot make one, so no sender can claim a frame was resolved.
    """
