from core.management.base import ServiceCommand
from partners.services import partner_get_by_slug
from programmes.management.commands._programme import programme_by_slug
from programmes.services import programme_set_owner


class Command(ServiceCommand):
    help = "Set the partner that runs a programme."

    def add_arguments(self, parser):
        parser.add_argument("--programme", required=True, help="programme slug, e.g. divert")
        parser.add_argument("--partner", required=True, help="partner slug")

    def run(self, *args, programme, partner, **options):
        updated = programme_set_owner(
            programme=programme_by_slug(programme), partner=partner_get_by_slug(partner)
        )
        self.stdout.write(f"{updated.name} is run by {updated.owner.name}.")
