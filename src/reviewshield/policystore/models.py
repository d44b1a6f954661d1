from django.db import models
from django.utils.translation import gettext_lazy as _


class HolidayOverride(models.Model):
    """An admin's correction of the official working-day calendar for one date."""

    date = models.DateField(_("date"), unique=True)
    is_working_day = models.BooleanField(_("is a working day"))
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Lets other processes notice an edited override without being told (see services.work_calendar).
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("holiday override")
        verbose_name_plural = _("holiday overrides")

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {'+' if self.is_working_day else '-'}"
