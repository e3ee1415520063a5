"""Template helpers shared by the console and the member pages: Bootstrap form fields with the
accessibility attributes a screen reader needs, and small formatting filters."""

from __future__ import annotations

from django import forms, template

register = template.Library()


def _widget_class(widget: forms.Widget) -> str:
    if isinstance(widget, forms.CheckboxInput | forms.RadioSelect | forms.CheckboxSelectMultiple):
        return "form-check-input"
    if isinstance(widget, forms.Select):
        return "form-select"
    return "form-control"


def _choice(sub) -> dict:
    """One box of a radio or checkbox list, with Bootstrap's class (the widget's attrs miss it)."""
    sub.data["attrs"] = {**sub.data["attrs"], "class": "form-check-input"}
    return {"tag": sub.tag(wrap_label=False), "label": sub.choice_label, "id": sub.id_for_label}


@register.inclusion_tag("yunying/field.html")
def field(bound: forms.BoundField, *, label: bool = True, size: str = "") -> dict:
    """One labelled form field: widget with Bootstrap's class, errors announced and linked to it."""
    widget = bound.field.widget
    css = _widget_class(widget)
    if size and css != "form-check-input":
        css += f" {css}-{size}"
    if bound.errors:
        css += " is-invalid"
    attrs = {"class": css}
    described = []
    if bound.help_text:
        described.append(f"{bound.auto_id}_help")
    if bound.errors:
        described.append(f"{bound.auto_id}_error")
        attrs["aria-invalid"] = "true"
    if described:
        attrs["aria-describedby"] = " ".join(described)
    choice_list = isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple)
    return {
        "bound": bound,
        "widget": bound.as_widget(attrs=attrs) if not choice_list else None,
        "choices": [_choice(sub) for sub in bound.subwidgets] if choice_list else None,
        "is_check": isinstance(widget, forms.CheckboxInput),
        "show_label": label,
    }


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None
