"""Forms of the flow pages, split by purpose: `content` (the JSON form and the details form),
`editor` (the visual editors' small forms) and `exchange` (fork and import).

Forms only parse input; the services in `flows/services.py` and `flows/editor.py` decide, and
their errors (which name a field) are put back next to the field with `add_service_errors`."""

from flows.forms.content import DetailsForm, JSONTextField, TreeForm, pretty
from flows.forms.editor import (
    FORM_FOR_TYPE,
    AddNodeForm,
    AddStepForm,
    AttachForm,
    EditorForm,
    IntakeFieldForm,
    NodeForm,
    OptionForm,
    add_service_errors,
    node_form,
)
from flows.forms.exchange import ForkForm, ImportForm

__all__ = [
    "AddNodeForm",
    "AttachForm",
    "AddStepForm",
    "DetailsForm",
    "EditorForm",
    "FORM_FOR_TYPE",
    "ForkForm",
    "ImportForm",
    "IntakeFieldForm",
    "NodeForm",
    "JSONTextField",
    "OptionForm",
    "TreeForm",
    "add_service_errors",
    "node_form",
    "pretty",
]
