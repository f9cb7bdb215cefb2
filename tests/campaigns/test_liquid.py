"""Liquid: parsing with positions, resource limits, variable extraction."""

from __future__ import annotations

import pytest

from campaigns.liquid import TemplateError, template_check, template_render, template_variables
from campaigns.preview import campaign_trigger_sample, campaign_variables
from tests.factories import CampaignFactory


def test_syntax_error_reports_line_and_column() -> None:
    problem = template_check("Hello\n  {% if %}x{% endif %}")

    assert problem is not None
    assert (problem.message, problem.line, problem.column) == ("missing expression", 2, 6)
    assert str(problem) == "missing expression (line 2, column 6)"


def test_valid_template_has_no_problem() -> None:
    assert template_check("Hi {{ profile.name | upcase }}") is None


def test_render_uses_profile_and_context() -> None:
    out = template_render(
        "{{ profile.person.name.firstName }} bought {{ context.product.name }}",
        profile={"person": {"name": {"firstName": "Ana"}}},
        context={"product": {"name": "Jackets"}},
    )

    assert out == "Ana bought Jackets"


def test_context_items_is_data_not_a_method() -> None:
    # Jinja2 would resolve context.items to dict.items; Liquid reads the key.
    assert template_render("{{ context.items }}", profile={}, context={"items": "3"}) == "3"


def test_loop_iteration_limit_stops_runaway_templates() -> None:
    with pytest.raises(TemplateError) as caught:
        template_render(
            "{% for i in (1..100000) %}{% for j in (1..100000) %}x{% endfor %}{% endfor %}",
            profile={},
            context={},
        )

    assert "limit" in str(caught.value).lower()


def test_output_limit_stops_huge_output() -> None:
    with pytest.raises(TemplateError):
        template_render(
            "{% for i in (1..9000) %}{{ context.s }}{% endfor %}",
            profile={},
            context={"s": "x" * 200},
        )


def test_template_variables_lists_leaf_paths_per_root() -> None:
    found = template_variables(
        [
            "Hi {{ profile.person.name.firstName }} {{ profile.person.name }}",
            "{% if profile.vip %}{{ context.offerCode }}{% endif %}",
            "{{ context.items[0].sku }} {{ other.thing }}",
            "{% if %}broken",
        ]
    )

    assert found == {
        "profile": {"person.name.firstName", "vip"},
        "context": {"offerCode", "items.0.sku"},
    }


@pytest.mark.django_db
def test_campaign_variables_cover_every_locale_and_part() -> None:
    campaign = CampaignFactory.create(
        content={
            "en": {"subject": "{{ profile.first }}", "html": "{{ context.a }}", "text": ""},
            "fr": {"subject": "{{ profile.last }}", "html": "", "text": "{{ context.b.c }}"},
        }
    )

    assert campaign_variables(campaign) == {"profile": ["first", "last"], "context": ["a", "b.c"]}
    sample = campaign_trigger_sample(campaign)
    assert sample["recipients"][0]["profile"] == {"first": "<first>", "last": "<last>"}
    assert sample["recipients"][0]["context"] == {"a": "<a>", "b": {"c": "<b.c>"}}
    assert sample["campaignId"] == str(campaign.pk)
