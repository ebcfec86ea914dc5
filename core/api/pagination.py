from __future__ import annotations

from rest_framework import pagination
from rest_framework.response import Response


class CursorPagination(pagination.CursorPagination):
    """API.md lists: {"results": [...], "next": "<url or null>"}, page_size up to 200."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-created_at", "-id")

    def get_ordering(self, request, queryset, view):
        # A visibility rule may read the creation time from its own rows (cases.access annotates
        # `listed_at`): paging on that column keeps every page one ordered index range scan.
        if "listed_at" in queryset.query.annotations:
            return ("-listed_at", "-id")
        return super().get_ordering(request, queryset, view)

    def get_paginated_response(self, data):
        return Response({"results": data, "next": self.get_next_link()})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results", "next"],
            "properties": {
                "results": schema,
                "next": {"type": "string", "nullable": True, "format": "uri"},
            },
        }
