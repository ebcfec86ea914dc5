from __future__ import annotations

import django_filters


class UpdatedSinceFilterSet(django_filters.FilterSet):
    """Every list accepts `updated_since` (ISO 8601) so partner systems can poll for changes."""

    updated_since = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
