"""Forms of the portals. They only parse; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from reviewshield.cases.assisted import MAX_DESCRIPTION as MAX_REQUEST
from reviewshield.cases.models import HarassmentType, ResponseKind
from reviewshield.evidence.intake import Upload
from reviewshield.evidence.kinds import KINDS
from reviewshield.evidence.models import EvidenceKind
from reviewshield.freetext import LIMITS, normalised

# The kinds a person may upload: the forensic report is written by ReviewShield itself.
UPLOADABLE_KINDS = [(value, label) for value, label in EvidenceKind.choices if value in KINDS]


class NamedIdBoundField(forms.BoundField):
    """A field whose element id the form names (`element_ids`), so the hand-written inputs of a page
    with several forms keep distinct ids, and the error summary, the field's message and its
    aria-describedby all point at the same element."""

    @property
    def auto_id(self) -> str:
        named: str | None = getattr(self.form, "element_ids", {}).get(self.name)
        return named or str(super().auto_id)


class NamedIdForm(forms.Form):
    bound_field_class = NamedIdBoundField
    element_ids: dict[str, str] = {}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class CountedBoundField(NamedIdBoundField):
    """A limited text's field: described by its error (when refused) and by its live counter."""

    @property
    def aria_describedby(self) -> str:
        return " ".join(filter(None, [super().aria_describedby, self.field.counter_id]))


class LimitedText(forms.CharField):
    """A free text with its one limit from `freetext.LIMITS`, counted as the services count it (line
    breaks as one character), and the attributes of the live counter the template puts below it."""

    bound_field_class = CountedBoundField

    def __init__(self, text: str, *, field_id: str, rows: int = 5, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget",
            forms.Textarea(attrs={"rows": rows, "data-counter": f"{field_id}-count"}),
        )
        kwargs.setdefault("error_messages", {}).setdefault(
            "max_length",
            _(
                "This text has %(show_value)d characters; at most %(limit_value)d are allowed. Please shorten it."
            ),
        )
        self.text = text
        self.counter_id = f"{field_id}-count"
        super().__init__(max_length=LIMITS[text], **kwargs)

    def to_python(self, value: Any) -> str:
        return normalised(super().to_python(value))


class OptionalEvidence(NamedIdForm):
    """Evidence files of one kind sent along with a text (a complaint, an answer, an appeal): none
    is fine, but files need their kind."""

    files = MultipleFileField(label=_("Evidence files"), required=False)
    evidence_kind = forms.ChoiceField(
        label=_("What are these files?"),
        choices=[("", _("Choose a kind of evidence")), *UPLOADABLE_KINDS],
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("files") and not data.get("evidence_kind"):
            self.add_error("evidence_kind", _("Say what kind of evidence the files are."))
        return data

    def uploads(self) -> list[Upload]:
        return uploads_from(self.cleaned_data)


class IncidentForm(OptionalEvidence):
    """What every account of an incident asks: when, what happened, evidence files of one kind."""

    occurred_at = forms.DateTimeField(
        label=_("When did it happen? (Beijing time)"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        error_messages={"required": _("Tell us when it happened."), "invalid": _("Enter a date and time.")},
    )
    narrative = LimitedText(
        "narrative",
        field_id="id_narrative",
        rows=6,
        label=_("Describe what happened"),
        error_messages={"required": _("Describe what happened.")},
    )
    files = MultipleFileField(label=_("Evidence files (you can add more later)"), required=False)

    field_order = ["occurred_at", "narrative", "files", "evidence_kind"]


class ComplaintForm(IncidentForm):
    field_order = ["harassment_types", "occurred_at", "narrative", "files", "evidence_kind", "reference"]

    harassment_types = forms.MultipleChoiceField(
        label=_("What happened?"),
        choices=HarassmentType.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one kind of harassment.")},
    )
    reference = forms.CharField(
        label=_("Waybill number (for a courier waybill)"), max_length=64, required=False
    )


class EvidenceForm(NamedIdForm):
    """Either side adds evidence of one kind to an open case."""

    element_ids = {
        "evidence_kind": "ev-kind",
        "files": "ev-files",
        "reference": "ev-reference",
        "description": "ev-description",
    }

    evidence_kind = forms.ChoiceField(
        label=_("What are these files?"),
        choices=[("", _("Choose a kind of evidence")), *UPLOADABLE_KINDS],
        error_messages={"required": _("Say what kind of evidence the files are.")},
    )
    files = MultipleFileField(label=_("Files"), error_messages={"required": _("Choose at least one file.")})
    reference = forms.CharField(
        label=_("Waybill number (for a courier waybill)"), max_length=64, required=False
    )
    description = forms.CharField(
        label=_("What does it show? (optional)"), max_length=LIMITS["evidence_description"], required=False
    )

    def __init__(self, *args: Any, kept: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if kept:  # files kept from the last try count as the files chosen
            self.fields["files"].required = False

    def uploads(self) -> list[Upload]:
        return uploads_from(self.cleaned_data)


class AnswerForm(OptionalEvidence):
    """The seller's answer: A (settle) or B (defend), the proposal or explanation, evidence files."""

    element_ids = {
        "kind": "answer-choice",
        "text": "answer-text",
        "files": "answer-files",
        "evidence_kind": "answer-kind",
    }

    kind = forms.ChoiceField(
        label=_("Choose how you answer"),
        choices=[
            (ResponseKind.SETTLEMENT, ResponseKind.SETTLEMENT.label),
            (ResponseKind.DEFENCE, ResponseKind.DEFENCE.label),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose A (settle with the buyer) or B (defend with an explanation).")},
    )
    text = LimitedText(
        "answer",
        field_id="answer-text",
        label=_("Your proposal or explanation"),
        error_messages={"required": _("Write your proposal or explanation.")},
    )
    field_order = ["kind", "text", "files", "evidence_kind"]


class AssistedRequestForm(NamedIdForm):
    """A buyer past the filing window asks an agent for an assisted complaint."""

    element_ids = {"description": "request-description"}

    description = forms.CharField(
        label=_("What happened, in a few words"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=MAX_REQUEST,
        error_messages={"required": _("Say in a few words what happened, so the agent knows why you ask.")},
    )


class AppealForm(OptionalEvidence):
    """Either side appeals a decision: reasons, and new evidence of one kind if they have it."""

    element_ids = {
        "reasons": "appeal-reasons",
        "files": "appeal-files",
        "evidence_kind": "appeal-kind",
        "reference": "appeal-reference",
        "description": "appeal-description",
    }

    reasons = LimitedText(
        "appeal_reasons",
        field_id="appeal-reasons",
        label=_("Why is the decision wrong?"),
        error_messages={"required": _("Write why the decision is wrong; the senior agent reads it.")},
    )
    files = MultipleFileField(label=_("New evidence files (optional)"), required=False)
    reference = forms.CharField(
        label=_("Waybill number (for a courier waybill)"), max_length=64, required=False
    )
    description = forms.CharField(
        label=_("What does it show? (optional)"), max_length=LIMITS["evidence_description"], required=False
    )

    field_order = ["reasons", "files", "evidence_kind", "reference", "description"]


def uploads_from(data: dict[str, Any]) -> list[Upload]:
    return [
        Upload(
            file=f,
            name=f.name or "file",
            kind=data.get("evidence_kind") or "",
            reference=data.get("reference") or "",
            description=data.get("description") or "",
        )
        for f in data.get("files") or []
    ]
