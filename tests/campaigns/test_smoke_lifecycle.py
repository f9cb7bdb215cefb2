from __future__ import annotations

import pytest

from campaigns.actors import Actor
from campaigns.models import Status
from campaigns.services.lifecycle import campaign_activate
from tests.factories import CampaignFactory


@pytest.mark.django_db
def test_activate_freezes_version_one() -> None:
    campaign = CampaignFactory.create()
    campaign = campaign_activate(campaign=campaign, actor=Actor.system())
    assert campaign.status == Status.LIVE
    assert campaign.live_version is not None
    assert campaign.live_version.number == 1
    assert campaign.live_version.snapshot["content"]["en"]["subject"].startswith("Thanks")
