"""Forms of the flow pages, split by purpose: `content` (the JSON form and the details form),
`editor` (the visual editors' small forms) and `exchange` (fork and import).

Forms only parse input; the services in `flows/services.py` and `flows/editor.py` decide, and
their errors (which name a field) are put back next to the field with `add_service_errors`."""

from flows.forms.content import DetailsForm, JSONTextField, TreeForm, pretty
from flows.forms.editor import (
    ActionForm,
    AddNodeForm,
    AddStepForm,
    DecisionForm,
    EditorForm,
    EndForm,
    IntakeFieldForm,
    NodeForm,
    OptionForm,
    SectionForm,
    SolutionForm,
    StepForm,
    add_service_errors,
    node_form,
)
from flows.forms.exchange import ForkForm, ImportForm

__all__ = [
    "ActionForm",
    "AddNodeForm",
    "AddStepForm",
    "DecisionForm",
    "DetailsForm",
    "EditorForm",
    "EndForm",
    "ForkForm",
    "ImportForm",
    "IntakeFieldForm",
    "NodeForm",
    "JSONTextField",
    "OptionForm",
    "SectionForm",
    "SolutionForm",
    "StepForm",
    "TreeForm",
    "add_service_errors",
    "node_form",
    "pretty",
]
