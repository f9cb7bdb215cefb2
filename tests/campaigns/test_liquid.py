"""Liquid: parsing with positions, resource limits, escaping, the bounded cache, variables."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from campaigns import limits
from campaigns.liquid import (
    SOURCE_TEMPLATES,
    VERSION_TEMPLATES,
    RenderedText,
    TemplateError,
    template_check,
    template_parse,
    template_render,
    template_variables,
    version_template,
)
from campaigns.preview import campaign_trigger_sample, campaign_variables
from tests.factories import CampaignFactory


def render(source: str, *, html: bool = False, **data: Any) -> RenderedText:
    return template_render(
        template_parse(source, html=html),
        profile=data.get("profile", {}),
        context=data.get("context", {}),
    )


@pytest.fixture
def empty_caches() -> Iterator[None]:
    SOURCE_TEMPLATES.clear()
    VERSION_TEMPLATES.clear()
    yield
    SOURCE_TEMPLATES.clear()
    VERSION_TEMPLATES.clear()


def test_syntax_error_reports_line_and_column() -> None:
    problem = template_check("Hello\n  {% if %}x{% endif %}")

    assert problem is not None
    assert (problem.message, problem.line, problem.column) == ("missing expression", 2, 6)
    assert str(problem) == "missing expression (line 2, column 6)"


def test_valid_template_has_no_problem() -> None:
    assert template_check("Hi {{ profile.name | upcase }}") is None


def test_render_uses_profile_and_context() -> None:
    out = render(
        "{{ profile.person.name.firstName }} bought {{ context.product.name }}",
        profile={"person": {"name": {"firstName": "Ana"}}},
        context={"product": {"name": "Jackets"}},
    )

    assert out == RenderedText("Ana bought Jackets", ())


def test_context_items_is_data_not_a_method() -> None:
    # Jinja2 would resolve context.items to dict.items; Liquid reads the key.
    assert render("{{ context.items }}", context={"items": "3"}).text == "3"


def test_loop_iteration_limit_stops_runaway_templates() -> None:
    with pytest.raises(TemplateError) as caught:
        render("{% for i in (1..100000) %}{% for j in (1..100000) %}x{% endfor %}{% endfor %}")

    assert "limit" in str(caught.value).lower()


def test_output_limit_stops_huge_output() -> None:
    with pytest.raises(TemplateError):
        render("{% for i in (1..9000) %}{{ context.s }}{% endfor %}", context={"s": "x" * 200})


@pytest.mark.parametrize(
    "source",
    [
        "",
        "https://shop.example/jacket.png",
        "<p>Layers &amp; {pockets}</p>\n",
        "a {# not a comment #} b",
        "{% raw %}{{ profile.name }}{% endraw %}",
        "line\r\nbreaks\rand\n",
    ],
)
@pytest.mark.parametrize("html", [False, True])
def test_a_template_without_tags_renders_as_liquid_would(source: str, html: bool) -> None:
    # Such parts skip Liquid's render machinery (campaigns.liquid._plain_text)
    template = template_parse(source, html=html)

    assert render(source, html=html) == RenderedText(template.render(), ())


def test_a_template_without_tags_past_the_output_limit_is_refused_as_before() -> None:
    with pytest.raises(TemplateError):
        render("é" * (limits.LIQUID_OUTPUT_STREAM_LIMIT // 2 + 1))


def test_html_templates_escape_data_and_text_templates_do_not() -> None:
    source = "<p>{{ context.note }} {{ profile.name }}</p>"
    data = {"context": {"note": "<script>alert(1)</script>"}, "profile": {"name": 'Ann "&" Bo'}}

    html = render(source, html=True, **data).text
    text = render(source, html=False, **data).text

    assert html == "<p>&lt;script&gt;alert(1)&lt;/script&gt; Ann &#34;&amp;&#34; Bo</p>"
    assert text == '<p><script>alert(1)</script> Ann "&" Bo</p>'


def test_the_safe_filter_outputs_trusted_markup_raw_in_html() -> None:
    out = render(
        "{{ context.banner | safe }}|{{ context.banner }}",
        html=True,
        context={"banner": "<b>Sale</b>"},
    )

    assert out.text == "<b>Sale</b>|&lt;b&gt;Sale&lt;/b&gt;"


def test_variables_that_render_empty_are_reported_by_path_once() -> None:
    out = render(
        "{{ profile.person.name.firstName }}{{ context.code }}{{ context.code }}"
        "{{ context.items[0].sku }}{{ context.given }}{{ context.absent | default: 'x' }}"
        "{% assign local = '' %}{{ local }}{% if profile.vip %}{{ profile.never }}{% endif %}",
        profile={"person": {"name": {}}},
        context={"code": "", "given": "ok", "items": []},
    )

    assert out == RenderedText(
        "okx",
        ("profile.person.name.firstName", "context.code", "context.items.0.sku"),
    )


def test_the_parse_cache_returns_the_same_parsed_template_on_a_hit(empty_caches: None) -> None:
    version_id = uuid.uuid4()

    first = template_parse("Hi {{ profile.name }}")
    again = template_parse("Hi {{ profile.name }}")
    as_html = template_parse("Hi {{ profile.name }}", html=True)
    frozen = version_template(
        version_id=version_id, locale="en", part="subject", source="Hi", html=False
    )
    frozen_again = version_template(
        version_id=version_id, locale="en", part="subject", source="ignored on a hit", html=False
    )

    assert again is first
    assert as_html is not first
    assert frozen_again is frozen
    assert len(SOURCE_TEMPLATES) == 2
    assert len(VERSION_TEMPLATES) == 1


def test_the_parse_cache_stays_under_its_source_size_bound_with_1_mb_sources(
    empty_caches: None,
) -> None:
    megabyte = 1_000_000

    def source(number: int) -> str:
        return f"{number} {{{{ profile.name }}}}".ljust(megabyte, "x")

    source_bound = limits.LIQUID_SOURCE_CACHE_SOURCE_CHARS // megabyte
    version_bound = limits.LIQUID_VERSION_CACHE_SOURCE_CHARS // megabyte
    for number in range(source_bound + 2):
        template_parse(source(number))
    for number in range(version_bound + 2):
        version_template(
            version_id=uuid.uuid4(), locale="en", part="html", source=source(number), html=True
        )

    assert SOURCE_TEMPLATES.total_size == source_bound * megabyte
    assert VERSION_TEMPLATES.total_size == version_bound * megabyte
    assert len(SOURCE_TEMPLATES) == source_bound
    assert len(VERSION_TEMPLATES) == version_bound
    # The newest entries are kept, the oldest dropped.
    assert SOURCE_TEMPLATES.get((False, source(source_bound + 1))) is not None
    assert SOURCE_TEMPLATES.get((False, source(0))) is None


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
