"""What each campaign API operation needs: an API key scope, or a user permission."""

from __future__ import annotations

from core.api.permissions import Access
from core.scopes import CAMPAIGNS_READ, CAMPAIGNS_WRITE

READ_CAMPAIGNS = Access(CAMPAIGNS_READ, "campaigns.view_campaign")
ADD_CAMPAIGNS = Access(CAMPAIGNS_WRITE, "campaigns.add_campaign")
CHANGE_CAMPAIGNS = Access(CAMPAIGNS_WRITE, "campaigns.change_campaign")
DELETE_CAMPAIGNS = Access(CAMPAIGNS_WRITE, "campaigns.delete_campaign")
READ_CHANNEL_CONFIGURATIONS = Access(CAMPAIGNS_READ, "campaigns.view_channelconfiguration")
