from core.management.base import ServiceCommand
from partners.services import partner_create


class Command(ServiceCommand):
    help = "Add a partner organisation."

    def add_arguments(self, parser):
        parser.add_argument("--slug", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--sector", required=True)

    def run(self, *args, slug, name, sector, **options):
        partner = partner_create(slug=slug, name=name, sector=sector)
        self.stdout.write(f"Added partner {partner.slug} ({partner.name}, {partner.sector}).")
