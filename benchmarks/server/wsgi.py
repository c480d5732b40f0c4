"""WSGI application of the ingest server (gunicorn benchmarks.server.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.server.settings")

application = get_wsgi_application()
