from django.core.management.base import CommandError

from core.errors import NotFound
from programmes.access import programme_get
from programmes.models import Programme


def programme_by_slug(slug: str) -> Programme:
    try:
        return programme_get(slug)
    except NotFound:
        known = ", ".join(Programme.objects.order_by("slug").values_list("slug", flat=True))
        raise CommandError(
            f"There is no programme with slug '{slug}' (there are: {known or 'none'})."
        ) from None
