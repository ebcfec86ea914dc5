from core.errors import NotFound
from core.management.base import ServiceCommand
from partners.models import User
from partners.services import personal_token_issue


class Command(ServiceCommand):
    help = "Print a new personal bearer token for a user (shown once)."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--days", type=int, default=None, help="lifetime in days")
        parser.add_argument("--name", default="issued by command")

    def run(self, *args, email, days, name, **options):
        user = User.objects.filter(email=email.strip().lower()).first()
        if user is None:
            raise NotFound(f"There is no user with email '{email}'.")
        _, token = personal_token_issue(user=user, name=name, lifetime_days=days)
        self.stdout.write(token)
