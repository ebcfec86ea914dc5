"""A choice field that appears in the OpenAPI document as its own named enum component.

drf-spectacular names inline enums after the field (`kind`, `status`, ...) and warns when several
apps use the same field name for different choice sets; a warning fails `check --deploy`. Naming
ours explicitly keeps the document stable whatever other apps call their fields.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers


class NamedChoiceField(serializers.ChoiceField):
    def __init__(self, *, enum_name: str, **kwargs):
        self.enum_name = enum_name
        super().__init__(**kwargs)


class NamedChoiceFieldExtension(OpenApiSerializerFieldExtension):
    target_class = NamedChoiceField

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        component = ResolvedComponent(
            name=field.enum_name,
            type=ResolvedComponent.SCHEMA,
            object=field.enum_name,
            schema={
                "type": "string",
                "enum": [str(code) for code in field.choices],
                "description": "\n".join(
                    f"* `{c}` - {label}" for c, label in field.choices.items()
                ),
            },
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref
