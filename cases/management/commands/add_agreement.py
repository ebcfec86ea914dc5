from datetime import date, timedelta

from django.utils import timezone

from cases.models import LawfulBasis
from cases.services import agreement_create
from core.errors import ValidationFailed
from core.management.base import ServiceCommand
from partners.services import partner_get_by_slug


class Command(ServiceCommand):
    help = "Record a data sharing agreement between partners."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--partners", required=True, help="comma-separated partner slugs")
        parser.add_argument(
            "--lawful-basis", default=LawfulBasis.PUBLIC_TASK, help=", ".join(LawfulBasis.values)
        )
        parser.add_argument(
            "--review-date", default=None, help="YYYY-MM-DD (default: a year from today)"
        )
        parser.add_argument(
            "--condition", default="", help="Art. 9 / DPA 2018 Schedule 1 condition or Part 3 basis"
        )
        parser.add_argument("--retention-months", type=int, default=72)

    def run(
        self,
        *args,
        name,
        partners,
        lawful_basis,
        review_date,
        condition,
        retention_months,
        **options,
    ):
        slugs = [s.strip() for s in partners.split(",") if s.strip()]
        parties = [partner_get_by_slug(slug) for slug in slugs]
        if review_date:
            try:
                review = date.fromisoformat(review_date)
            except ValueError:
                raise ValidationFailed(f"'{review_date}' is not a date; use YYYY-MM-DD.") from None
        else:
            review = timezone.localdate() + timedelta(days=365)
        agreement = agreement_create(
            name=name, parties=parties, lawful_basis=lawful_basis, review_date=review, condition=condition,
            retention_months=retention_months,
        )  # fmt: skip
        self.stdout.write(
            f"Recorded agreement '{agreement.name}' between {', '.join(slugs)} (review {review})."
        )
