from __future__ import annotations

from django.core.management.base import CommandError

from casework.imports import import_referrals_csv
from core.errors import ValidationFailed
from core.management.base import ServiceCommand
from partners.actor import actor_for_client, actor_for_user
from partners.models import ApiClient, User
from partners.services import api_client_create, partner_get_by_slug

IMPORT_CLIENT = "CSV import"
BAR_WIDTH = 30


class Command(ServiceCommand):
    help = (
        "Import referrals from a CSV file for a partner. Valid rows are kept, rows with errors are "
        "listed by row number, and re-running the same file creates no duplicates. "
        "Columns: see casework/imports.py."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="path to the CSV file (UTF-8, header row first)")
        parser.add_argument("--partner", required=True, help="slug of the sending partner")
        parser.add_argument(
            "--user",
            default=None,
            help="email of the practitioner or manager sending them (default: the partner's "
            f"'{IMPORT_CLIENT}' system identity)",
        )
        parser.add_argument("--encoding", default="utf-8-sig")

    def run(self, *args, file, partner, user, encoding, **options):
        partner = partner_get_by_slug(partner)
        actor = self._actor(partner, user)
        try:
            handle = open(file, encoding=encoding, newline="")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from None
        try:
            with handle:
                result = import_referrals_csv(actor=actor, lines=handle, progress=self._progress)
        except UnicodeDecodeError:
            raise CommandError(f"{file} is not {encoding} text; try --encoding cp1252.") from None
        for error in result.errors:
            self.stderr.write(str(error))
        self.stdout.write(
            f"Imported {len(result.created)} referral(s) from {result.rows} row(s); "
            f"{len(result.skipped)} already imported; {len(result.errors)} row(s) with errors."
        )
        if result.errors:
            raise CommandError(
                f"{len(result.errors)} row(s) had errors (listed above); the other rows were kept. "
                "Fix those rows and run the same file again: imported rows are not duplicated."
            )

    def _actor(self, partner, email):
        if email:
            user = User.objects.filter(email=email.lower()).select_related("membership").first()
            actor = actor_for_user(user, channel="sync") if user else None
            if actor is None or actor.partner.pk != partner.pk:
                raise ValidationFailed(f"{email} is not an active member of {partner.slug}.")
            return actor
        client = ApiClient.objects.filter(partner=partner, name=IMPORT_CLIENT).first()
        if client is None:
            # The identity batch imports act as: its token is never shown or used.
            client, _ = api_client_create(partner=partner, name=IMPORT_CLIENT, scopes="write")
        actor = actor_for_client(client)
        if actor is None:
            raise ValidationFailed(f"The '{IMPORT_CLIENT}' client of {partner.slug} is revoked.")
        return actor.via("sync")

    def _progress(self, done: int, total: int) -> None:
        filled = BAR_WIDTH * done // total
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        self.stderr.write(f"\rImporting [{bar}] {done}/{total}", ending="")
        if done == total:
            self.stderr.write("")
        self.stderr.flush()
