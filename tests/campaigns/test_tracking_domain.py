"""A channel configuration's tracking domain is a host name: tracked links are built on it."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from campaigns.models import ChannelConfiguration
from core.channels import Channel


def _configuration(domain: str) -> ChannelConfiguration:
    return ChannelConfiguration(
        name="Sender",
        channel=Channel.EMAIL,
        from_email="shop@example.com",
        tracking_domain=domain,
    )


@pytest.mark.parametrize("domain", ["links.shop.example", "t.example:8443", "localhost", ""])
def test_a_host_name_is_accepted(domain: str) -> None:
    _configuration(domain).clean_fields()


@pytest.mark.parametrize(
    "domain", ["https://links.shop.example", "links.shop.example/t", "links shop", "-x.example"]
)
def test_a_scheme_a_path_or_a_bad_label_is_refused_in_words(domain: str) -> None:
    with pytest.raises(ValidationError) as refused:
        _configuration(domain).clean_fields()

    assert refused.value.message_dict["tracking_domain"] == [
        "Enter a host name such as links.example.com (no https://, no path)."
    ]
