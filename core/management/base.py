from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError


class ServiceCommand(BaseCommand):
    """Runs `run()` and turns a domain error into one line on stderr and a non-zero exit."""

    def handle(self, *args, **options):
        try:
            return self.run(*args, **options)
        except DomainError as exc:
            raise CommandError(exc.message) from None

    def run(self, *args, **options):  # pragma: no cover - subclasses implement
        raise NotImplementedError
