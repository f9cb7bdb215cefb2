"""Tags: free words that group campaigns."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import label_name_validator


class Tag(models.Model):
    """A free word that groups campaigns for marketers (filters, search)."""

    name = models.CharField(
        _("name"), max_length=64, unique=True, validators=[label_name_validator]
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name
