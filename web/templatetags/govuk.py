"""GOV.UK Design System markup for Django forms, and the bits of layout every page needs."""

from __future__ import annotations

from django import forms, template
from django.conf import settings
from django.utils.html import format_html

from partners.actor import request_actor
from web.forms.fields import GovukDateTimeWidget, GovukDateWidget, GovukTimeWidget

register = template.Library()


def _kind(widget) -> str:
    if isinstance(widget, GovukDateWidget | GovukTimeWidget | GovukDateTimeWidget):
        return "date"  # the GOV.UK date-input pattern, for times too
    # CheckboxSelectMultiple is a subclass of RadioSelect: test it first.
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return "checkboxes"
    if isinstance(widget, forms.RadioSelect):
        return "radios"
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    if isinstance(widget, forms.Select):
        return "select"
    if isinstance(widget, forms.Textarea):
        return "textarea"
    if isinstance(widget, forms.HiddenInput):
        return "hidden"
    return "input"


def field_anchor(field) -> str:
    """Where an error summary link should take the user: the first input of the field."""
    kind = _kind(field.field.widget)
    if kind == "date":
        return f"{field.auto_id}_{field.field.widget.parts[0][0]}"
    if kind in ("radios", "checkboxes"):
        return f"{field.auto_id}_0"
    return field.auto_id


@register.inclusion_tag("web/fields/field.html")
def govuk_field(field, width: str = "", label_class: str = "", rows: int = 5, **kwargs):
    widget = field.field.widget
    kind = _kind(widget)
    value = field.value()
    context = {
        "field": field,
        "kind": kind,
        "id": field.auto_id,
        "name": field.html_name,
        "value": "" if value is None else value,
        "errors": field.errors,
        "hint": field.help_text,
        "label": field.label,
        "required": field.field.required,
        "width": width or widget.attrs.get("data-width", ""),
        "label_class": label_class,
        "rows": rows,
        "attrs": {
            k: v
            for k, v in widget.attrs.items()
            if k in ("autocomplete", "inputmode", "spellcheck")
        },
        "input_type": widget.attrs.get("type") or getattr(widget, "input_type", "text"),
        "sensitive": widget.attrs.get("data-sensitive"),
        "reveal": kwargs,
    }
    if kind in ("radios", "checkboxes", "select"):
        selected = value if isinstance(value, list | tuple) else [value]
        selected = [str(v) for v in selected if v is not None]
        hints = getattr(field.field, "choice_hints", {})
        options, groups, index = [], [], 0
        for v, label in field.field.choices:
            items = label if isinstance(label, list | tuple) else None
            group = {"label": v if items else "", "options": []}
            for value, text in items or [(v, label)]:
                option = {
                    "value": str(value),
                    "label": text,
                    "checked": str(value) in selected,
                    "id": f"{field.auto_id}_{index}",
                    "hint": hints.get(value, ""),
                }
                index += 1
                options.append(option)
                group["options"].append(option)
            if items or not groups or groups[-1]["label"]:
                groups.append(group)
            else:
                groups[-1]["options"].extend(group["options"])
        context["options"] = options
        context["groups"] = groups
    if kind == "date":
        parts = widget.decompress(value) if not isinstance(value, list) else value
        parts = list(parts or [None] * len(widget.parts))
        context["parts"] = [
            (key, text, parts[i] or "", size) for i, (key, text, size) in enumerate(widget.parts)
        ]
    if kind == "checkbox":
        context["checked"] = bool(value) and value not in ("False", "false", "0")
    return context


@register.inclusion_tag("web/error_summary.html")
def error_summary(*forms_):
    items = []
    for form in forms_:
        if form is None or not form.errors:
            continue
        for error in form.non_field_errors():
            items.append({"text": error, "href": ""})
        for field in form:
            for error in field.errors:
                items.append({"text": error, "href": f"#{field_anchor(field)}"})
    return {"items": items}


@register.simple_tag(takes_context=True)
def actor(context):
    request = context.get("request")
    return request_actor(request) if request is not None else None


@register.simple_tag
def session_idle_timeout() -> int:
    return settings.SESSION_IDLE_TIMEOUT


_STATUS_COLOURS = {
    # case status
    "referred": "blue",
    "screening": "yellow",
    "open": "green",
    "closed": "grey",
    # risk
    "low": "grey",
    "medium": "yellow",
    "high": "red",
}


@register.simple_tag
def status_tag(value: str, label: str = ""):
    colour = _STATUS_COLOURS.get(str(value), "grey")
    return format_html(
        '<strong class="govuk-tag govuk-tag--{}">{}</strong>', colour, label or str(value).title()
    )


@register.filter
def get_item(mapping, key):
    try:
        return mapping.get(key)
    except AttributeError:
        return None


def _nav_for(me) -> list[tuple[str, str, str]]:
    """(href, text, prefix that marks it current): what the signed-in actor may use, asked of
    the same access predicates the pages and services use."""
    from cases import access
    from casework import access as casework_access
    from programmes import access as programme_access
    from wellbeing import access as wellbeing_access

    supervision = (
        [("/supervision/", "My supervision", "/supervision/")]
        if wellbeing_access.is_staff_member(me)
        else []
    )
    if access.reviews_access(me):
        items = [
            ("/audit/access-log/", "Access log", "/audit/access-log/"),
            ("/audit/break-glass/", "Break-glass", "/audit/break-glass/"),
            ("/reports/", "Reports", "/reports/"),
        ]
        if access.can_read_processing_record(me):
            items.append(("/governance/processing/", "Record of processing", "/governance/"))
        return items + supervision
    if not access.reads_case_content(me):
        return [("/admin/", "Administration", "/admin/")]
    items = [
        ("/", "My work", "="),
        ("/cases/", "Find a case", "/cases/"),
        ("/follow-ups/", "Follow-ups", "/follow-ups/"),
    ]
    if casework_access.can_refer(me):
        items.append(("/referrals/new/", "New referral", "/referrals/"))
    if access.oversees_partner(me):
        items += [
            ("/manager/caseload/", "Caseload", "/manager/caseload/"),
            ("/manager/screening/", "Screening", "/manager/screening/"),
            ("/manager/staff/", "Staff", "/manager/staff/"),
        ]
    if access.reviews_retention(me):
        items.append(("/manager/retention/", "Retention", "/manager/retention/"))
    if programme_access.uses_programmes(me):
        items.append(("/programmes/", "Programmes", "/programmes/"))
    if casework_access.can_read_partnership_figures(me):
        items.append(("/reports/", "Reports", "/reports/"))
    return items + supervision


@register.simple_tag(takes_context=True)
def service_nav(context):
    request = context.get("request")
    me = request_actor(request) if request is not None else None
    if me is None:
        return []
    path = request.path
    return [
        {
            "href": href,
            "text": text,
            "active": path == href if prefix == "=" else path.startswith(prefix),
        }
        for href, text, prefix in _nav_for(me)
    ]


@register.filter
def app_link(link: str) -> str:
    """Notifications written by services may point at the API; send people to the page instead."""
    import re

    if not link or not link.startswith("/") or link.startswith("//"):
        return ""
    m = re.match(r"^/api/v1/programmes/([\w-]+)/intake", link)
    if m:
        return f"/programmes/{m.group(1)}/intake/"
    m = re.match(r"^/api/v1/enrolments/([0-9a-f-]+)", link)
    if m:
        return f"/enrolments/{m.group(1)}/"
    if link.startswith("/api/"):
        return ""
    return link


@register.filter
def suppressed(cell, threshold):
    """A report cell as published: the count, "<10" or "[c]" (web/reports.py)."""
    return cell.display(threshold)


@register.filter
def get_index(sequence, index):
    try:
        return sequence[int(index)]
    except (IndexError, TypeError, ValueError):
        return ""


@register.filter
def is_list(value) -> bool:
    """A value shown as a list of lines rather than one line."""
    return isinstance(value, list | tuple)
