from core.management.base import ServiceCommand
from partners.services import api_client_create, partner_get_by_slug


class Command(ServiceCommand):
    help = "Add an API client (a partner system) and print its token (shown once)."

    def add_arguments(self, parser):
        parser.add_argument("--partner", required=True, help="partner slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--scopes", default="read,write,sync")

    def run(self, *args, partner, name, scopes, **options):
        _, token = api_client_create(partner=partner_get_by_slug(partner), name=name, scopes=scopes)
        self.stdout.write(token)
