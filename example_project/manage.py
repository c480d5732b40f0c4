#!/usr/bin/env python
"""Command-line entry point of the django-sentry example project.

Run it from this directory, for example ``python manage.py demo_setup``.
"""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
