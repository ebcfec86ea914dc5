from django.conf import settings
from django.db import transaction

from core.management.base import ServiceCommand
from partners.demo import DEMO_PASSWORD, seed_partners


class Command(ServiceCommand):
    help = "Load the demo partnership (idempotent) and print the demo logins."

    def run(self, *args, **options):
        with transaction.atomic():
            logins = seed_partners()
            extra = []
            for seeder in _domain_seeders():
                extra.extend(seeder() or [])
        self.stdout.write(f"Demo partnership loaded. Sign in at {settings.SITE_URL}/ with:")
        self.stdout.write(f"  {'email':32} {'role':13} partner")
        for email, _name, partner, role in logins:
            self.stdout.write(f"  {email:32} {role:13} {partner}")
        self.stdout.write(f"  password for every demo user: {DEMO_PASSWORD}")
        if logins:
            self.stdout.write(
                "An API token for a demo user (partner API, docs/integration.md): "
                f"uv run python manage.py issue_token --email {logins[0][0]}"
            )
        for line in extra:
            self.stdout.write(line)


def _domain_seeders():
    """Each app adds its own demo data (its demo.py), in this order."""
    from cases.demo import seed_cases
    from casework.demo import seed_casework
    from followups.demo import seed_followups
    from programmes.demo import seed_programmes
    from sync.demo import seed_sync
    from web.demo import seed_web
    from wellbeing.demo import seed_wellbeing

    return [
        seed_cases, seed_programmes, seed_casework, seed_followups, seed_wellbeing, seed_sync,
        seed_web,
    ]  # fmt: skip
