"""The project's Celery app, for the few modules below the project package that publish or list
tasks by name (the outbox, /metrics). vru/celery.py hands it over when it creates it, so no app
imports the project package; `celery.current_app` is not used because any Celery app created later
in the process (a health probe's, a test's) would replace it."""

from __future__ import annotations

_app = None


def set_celery_app(app) -> None:
    global _app
    _app = app


def celery_app():
    if _app is None:  # vru/__init__.py creates it on import, before Django's settings are read
        raise RuntimeError("The Celery app is not set up (vru.celery not imported).")
    return _app
