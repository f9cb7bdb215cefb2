"""Tables the purge also empties: rows tied to a message without a database constraint.

A feature keeping rows about messages (the SMS short links of tracking, the logged
deliveries of outbound webhooks) registers its model once, in its app's ``ready()``:

- ``retention_register(ShortLink, message_field="message_id")``: the rows go with
  their message (the field holds the message id; index it). Deleted before their
  messages in each batch, and by id range before a week's partitions are dropped.
- ``retention_register(WebhookDelivery, time_field="created_at")``: the rows go when
  their own time is older than the retention cutoff, whatever became of the message.

A model with a real foreign key to ``Message`` and ``on_delete=CASCADE`` needs no
registration for the batched deletes (Django's collector follows it), but does for
dropped partitions, which bypass Django: register it by ``message_field`` too.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models


@dataclass(frozen=True)
class RetainedModel:
    """A registered model: purged with its messages, or by its own time."""

    model: type[models.Model]
    message_field: str = ""
    time_field: str = ""


_registry: list[RetainedModel] = []


def retention_register(
    model: type[models.Model], *, message_field: str = "", time_field: str = ""
) -> None:
    """Have ``messages_purge`` delete ``model``'s rows (see the module's docstring)."""
    if bool(message_field) == bool(time_field):
        raise ValueError("Give exactly one of message_field and time_field.")
    model._meta.get_field(message_field or time_field)  # fails now on a misspelt field
    entry = RetainedModel(model, message_field, time_field)
    if entry not in _registry:
        _registry.append(entry)


def retention_unregister(model: type[models.Model]) -> None:
    _registry[:] = [entry for entry in _registry if entry.model is not model]


def retained_by_message() -> list[RetainedModel]:
    return [entry for entry in _registry if entry.message_field]


def retained_by_time() -> list[RetainedModel]:
    return [entry for entry in _registry if entry.time_field]
