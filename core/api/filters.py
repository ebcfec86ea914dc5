from __future__ import annotations

from datetime import UTC

import django_filters
from rest_framework.exceptions import ValidationError


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 filter that converts to UTC before querying: any offset Python accepts
    (up to ±23:59) is valid input, but PostgreSQL refuses offsets beyond ±15:59 with a 500."""

    def filter(self, qs, value):
        if value is not None:
            try:
                value = value.astimezone(UTC)
            except (OverflowError, ValueError):
                raise ValidationError(
                    {self.field_name: ["This date and time is out of range."]}
                ) from None
        return super().filter(qs, value)


class UpdatedSinceFilterSet(django_filters.FilterSet):
    """Every list accepts `updated_since` (ISO 8601) so partner systems can poll for changes."""

    updated_since = UtcIsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
