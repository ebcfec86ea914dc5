from core.management.base import ServiceCommand
from partners.services import partner_get_by_slug, user_create


class Command(ServiceCommand):
    help = "Add a staff user with one membership (partner and role)."

    def add_arguments(self, parser):
        parser.add_argument("--partner", required=True, help="partner slug")
        parser.add_argument("--role", required=True)
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", default=None)
        parser.add_argument("--name", default="", help="full name")

    def run(self, *args, partner, role, email, password, name, **options):
        user = user_create(
            partner=partner_get_by_slug(partner),
            role=role,
            email=email,
            password=password,
            full_name=name,
        )
        self.stdout.write(f"Added {user.email} as {role} at {partner}.")
