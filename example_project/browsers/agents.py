"""Tell a browser family from a User-Agent header (roughly, on purpose)."""

import re

# Order matters: Edge and Chrome also say "Safari", Edge also says "Chrome".
FAMILIES = (
    ("Edge", re.compile(r"\bEdg(e|A|iOS)?/")),
    ("Firefox", re.compile(r"\bFirefox/")),
    ("Chrome", re.compile(r"\b(Chrome|CriOS)/")),
    ("Safari", re.compile(r"\bSafari/")),
    ("curl", re.compile(r"^curl/")),
    ("Python", re.compile(r"python-requests|Python-urllib|aiohttp|httpx")),
    ("Bot", re.compile(r"bot|crawler|spider", re.IGNORECASE)),
)


def browser_family(user_agent):
    """Return a short name for the browser behind ``user_agent``."""
    if not user_agent:
        return "Unknown"
    for family, pattern in FAMILIES:
        if pattern.search(user_agent):
            return family
    return "Other"
