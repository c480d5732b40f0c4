"""``demo_setup`` lives here."""
