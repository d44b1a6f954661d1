"""A refused form with files keeps what was sent: the text and choices (the bound form), the files that
passed intake (`evidence.kept`), and each problem next to the field it concerns.

    kept = KeptFiles(request, purpose=f"answer:{case.pk}", side="seller")
    form = AnswerForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            with kept.uploads(form.uploads(), kind=...) as files:
                service(..., files=files)
        except ReviewShieldError as exc:
            kept.refused(form, exc)
        else:
            kept.accepted()
            return redirect(...)
    else:
        kept.refused(form)
    ... render with form and kept.rows (status 422)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django import forms
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from reviewshield.errors import EvidenceRejected, ReviewShieldError
from reviewshield.evidence.intake import Upload
from reviewshield.evidence.kept import kept_for, kept_opened, kept_recheck, kept_release, kept_store
from reviewshield.evidence.models import KeptUpload


def refusal_on_form(form: forms.Form, exc: ReviewShieldError) -> None:
    """Put a service's refusal where it belongs: each validation problem at its field, else on top."""
    details = exc.details if exc.code == "invalid" else {}
    placed = False
    for name, problem in details.items():
        if isinstance(problem, str) and name in form.fields:
            form.add_error(name, problem)
            placed = True
    if not placed:
        form.add_error(None, str(exc.message))


class KeptFiles:
    """The files of one form: those kept from an earlier refused post of it, and what to keep now."""

    def __init__(self, request: HttpRequest, *, purpose: str, side: str) -> None:
        self.request = request
        self.purpose = purpose
        self.side = side
        self.rows: list[KeptUpload] = (
            kept_for(
                owner=request.user,
                purpose=purpose,
                tokens=request.POST.getlist("kept"),
                now=timezone.now(),
            )
            if request.method == "POST"
            else []
        )

    def valid(self, form: forms.Form) -> bool:
        """`form.is_valid()`, and a kind of evidence named when a kept file still lacks one."""
        if not form.is_valid():
            return False
        if any(not row.kind for row in self.rows) and not form.cleaned_data.get("evidence_kind"):
            form.add_error("evidence_kind", _("Say what kind of evidence the files are."))
            return False
        return True

    @contextmanager
    def uploads(
        self, fresh: Sequence[Upload], *, kind: str = "", reference: str = "", description: str = ""
    ) -> Iterator[list[Upload]]:
        """The fresh uploads followed by the kept ones (a kept file without a kind takes `kind`)."""
        with kept_opened(self.rows, kind=kind, reference=reference, description=description) as old:
            yield [*fresh, *old]

    def accepted(self) -> None:
        """The submission went through: the kept files are now evidence; drop their waiting copies."""
        kept_release(self.rows)
        self.rows = []

    def refused(self, form: forms.Form, exc: ReviewShieldError | None = None) -> None:
        """Keep this refused post's accepted files; each refused file's reason goes to the files field.

        `exc` is the service's refusal, if the service refused (None: the form itself did).
        """
        post = self.request.POST
        kind = post.get("evidence_kind", "")
        kind = kind if kind in dict(form.fields["evidence_kind"].choices) else ""  # type: ignore[attr-defined]
        rechecked = kept_recheck(self.rows, kind=kind, side=self.side)
        fresh = [
            Upload(
                file=f,
                name=f.name or "file",
                kind=kind,
                reference=post.get("reference", ""),
                description=post.get("description", ""),
            )
            for f in self.request.FILES.getlist("files")
        ]
        stored = kept_store(
            owner=self.request.user, purpose=self.purpose, uploads=fresh, side=self.side, now=timezone.now()
        )
        problems = [*rechecked.refused, *stored.refused]
        for problem in problems:
            form.add_error("files", problem)
        self.rows = [*rechecked.kept, *stored.kept]
        form.kept_files = self.rows  # type: ignore[attr-defined]  # the template lists them
        if exc is not None and not (isinstance(exc, EvidenceRejected) and problems):
            if isinstance(exc, EvidenceRejected):
                form.add_error("files", str(exc.message))
            else:
                refusal_on_form(form, exc)
