"""factory_boy factories for the test suite."""

from __future__ import annotations

import factory
from django.contrib.auth.models import User

from audiences.models import IdentityNamespace
from campaigns.models import Campaign, CampaignContent, ChannelConfiguration
from core.models import AccessLabel


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    is_staff = True
    password = factory.django.Password("pw-for-tests-1")


class ChannelConfigurationFactory(factory.django.DjangoModelFactory[ChannelConfiguration]):
    class Meta:
        model = ChannelConfiguration

    name = factory.Sequence(lambda n: f"Email sender {n}")
    channel = "email"
    from_name = "Clarion Shop"
    from_email = "shop@example.com"
    reply_to = "help@example.com"


class SmsConfigurationFactory(ChannelConfigurationFactory):
    name = factory.Sequence(lambda n: f"SMS sender {n}")
    channel = "sms"
    from_email = ""
    sms_sender = "Clarion"
    sms_provider = "outbox"


class PushConfigurationFactory(ChannelConfigurationFactory):
    name = factory.Sequence(lambda n: f"Push app {n}")
    channel = "push"
    from_email = ""
    push_app_id = "com.example.shop"
    push_platform = "android"
    push_provider = "outbox"


class AccessLabelFactory(factory.django.DjangoModelFactory[AccessLabel]):
    class Meta:
        model = AccessLabel
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"label{n}")


class CampaignFactory(factory.django.DjangoModelFactory[Campaign]):
    """A transactional email campaign that passes review."""

    class Meta:
        model = Campaign
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Order confirmation {n}")
    category = "transactional"
    channel = "email"
    channel_configuration = factory.SubFactory(ChannelConfigurationFactory)
    identity_namespace = factory.LazyFunction(lambda: IdentityNamespace.objects.get(code="email"))
    default_locale = "en"

    @factory.post_generation
    def content(obj: Campaign, create: bool, extracted: dict | None, **kwargs: object) -> None:
        if not create:
            return
        locales = (
            extracted
            if extracted is not None
            else {
                "en": {
                    "subject": "Thanks {{ profile.person.name.firstName }}",
                    "html": '<p>{{ context.product.name }} <a href="https://shop.example/o">order</a></p>',
                    "text": "{{ context.product.name }} https://shop.example/o",
                }
            }
        )
        for locale, fields in locales.items():
            CampaignContent.objects.create(campaign=obj, locale=locale, **fields)
