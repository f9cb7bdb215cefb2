"""SMS short links: a short random code standing for one link of one message."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from delivery.models.messages import Message


class ShortLink(models.Model):
    """``/s/<code>``: link ``link`` (1-based) of ``message``, for SMS, where every character counts.

    The code is random (delivery.tracking.tokens.short_code_new), not signed: it is
    too short to carry a signature, and long enough not to be guessed. The target is
    the message's own ``links[link - 1]``. No database constraint on the message: on
    PostgreSQL the message table is partitioned and a purge drops whole partitions,
    which a foreign key would forbid; rows whose message is gone resolve to a 404
    and are purged with the retention sweep.
    """

    code = models.CharField(_("code"), max_length=16, primary_key=True)
    message = models.ForeignKey(
        Message,
        verbose_name=_("message"),
        on_delete=models.CASCADE,
        db_constraint=False,
        related_name="short_links",
        db_index=True,
    )
    link = models.PositiveSmallIntegerField(_("link"))

    class Meta:
        verbose_name = _("short link")
        verbose_name_plural = _("short links")

    def __str__(self) -> str:
        return self.code
