"""Small presentation helpers shared by every app's templates."""

from django import forms, template
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def bootstrap_widget(field: forms.BoundField) -> SafeString:
    """Render a field's widget with Bootstrap classes, marked invalid when it has errors."""
    widget = field.field.widget
    if isinstance(widget, forms.CheckboxInput):
        css = "form-check-input"
    elif isinstance(widget, forms.Select):
        css = "form-select"
    else:
        css = "form-control"
    attrs = {"class": f"{css} {widget.attrs.get('class', '')}".strip()}
    if field.errors:
        attrs["class"] += " is-invalid"
        attrs["aria-describedby"] = f"{field.id_for_label}-errors"
    return field.as_widget(attrs=attrs)
