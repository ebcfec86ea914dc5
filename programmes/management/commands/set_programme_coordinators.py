from core.management.base import ServiceCommand
from programmes.management.commands._programme import programme_by_slug
from programmes.services import programme_set_coordinators


class Command(ServiceCommand):
    help = (
        "Set who coordinates a programme (runs its intake): replaces its coordinators with the "
        "staff who have these emails."
    )

    def add_arguments(self, parser):
        parser.add_argument("--programme", required=True, help="programme slug, e.g. divert")
        parser.add_argument("--emails", required=True, help="comma-separated staff emails")

    def run(self, *args, programme, emails, **options):
        updated = programme_set_coordinators(
            programme=programme_by_slug(programme), emails=emails.split(",")
        )
        names = ", ".join(updated.coordinators.order_by("email").values_list("email", flat=True))
        self.stdout.write(f"{updated.name} is coordinated by {names}.")
