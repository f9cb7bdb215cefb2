"""People: identity namespaces now; profiles, identities and audiences follow."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

BUILTIN_NAMESPACES: dict[str, str] = {
    "email": "Email",
    "phone": "Phone",
    "crm_id": "CRM ID",
    "ecid": "Experience Cloud ID",
}


class IdentityNamespace(models.Model):
    """A kind of identifier a recipient is known by (email, phone, CRM id, ...).

    The four built-in namespaces are created by a migration and cannot be
    deleted; administrators may add custom ones.
    """

    code = models.CharField(
        _("code"),
        max_length=64,
        unique=True,
        validators=[
            RegexValidator(
                r"^[a-z][a-z0-9_]{1,63}$",
                _("Use 2 to 64 lower-case letters, digits or underscores, starting with a letter."),
            )
        ],
        help_text=_("The value trigger calls send as `namespace`, e.g. `loyalty_id`."),
    )
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    builtin = models.BooleanField(_("built in"), default=False, editable=False)

    class Meta:
        ordering = ["-builtin", "code"]
        verbose_name = _("identity namespace")
        verbose_name_plural = _("identity namespaces")

    def __str__(self) -> str:
        return self.code
