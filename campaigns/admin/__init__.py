"""The admin: the campaign walk-through and the objects around it."""

from campaigns.admin import campaign, others

__all__ = ["campaign", "others"]
