"""The audience admin: rules saved from the builder's JSON, errors in words, size, sample, CSV."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from audiences.models import Audience, AudienceMember
from tests.audiences.audience_helpers import make_people

pytestmark = pytest.mark.django_db

RULES = {
    "combinator": "or",
    "conditions": [
        {"field": "attributes.city", "operator": "equals", "value": "Paris"},
        {
            "combinator": "and",
            "conditions": [
                {"field": "identity.email", "operator": "equals", "value": "BEN@example.com"},
                {"field": "consent.sms", "operator": "equals", "value": "opted_in"},
            ],
        },
    ],
}


@pytest.fixture
def staff(admin_user_obj: User) -> Client:
    client = Client()
    client.force_login(admin_user_obj)
    return client


def test_add_page_has_the_rule_builder(staff: Client) -> None:
    response = staff.get(reverse("admin:audiences_audience_add"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "audiences/admin/rule_builder.js" in html
    assert 'id="audience-rule-config"' in html
    config = response.context["rule_builder_config"]
    assert config["operators"]["datetime"] == ["before", "after"]
    assert "email" in next(f for f in config["fields"] if f["value"] == "identity")["options"]


def test_saving_rules_from_the_builder_json(staff: Client) -> None:
    # when the builder has written its JSON into the rules field
    response = staff.post(
        reverse("admin:audiences_audience_add"),
        {"name": "Paris or Ben", "description": "", "kind": "rules", "rules": json.dumps(RULES)},
    )
    # then the audience is saved with its rules, identity values normalised
    assert response.status_code == 302
    audience = Audience.objects.get()
    assert audience.kind == "rules"
    assert audience.rules["conditions"][1]["conditions"][0]["value"] == "ben@example.com"


def test_invalid_rules_are_shown_in_words(staff: Client) -> None:
    rules = {
        "combinator": "and",
        "conditions": [
            {"field": "attributes.age", "operator": "greater_than", "value": ""},
            {
                "combinator": "or",
                "conditions": [{"field": "timeZone", "operator": "before", "value": "x"}],
            },
        ],
    }
    response = staff.post(
        reverse("admin:audiences_audience_add"),
        {"name": "Bad", "description": "", "kind": "rules", "rules": json.dumps(rules)},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["rules"] == [
        "Condition 1 › value: Give a number.",
        "Condition 2 › condition 1 › operator: The field “timeZone” does not take “before” "
        "(use one of: equals, not_equals, contains, in, exists, not_exists).",
    ]
    assert response.context["rule_errors"][0]["pointer"] == "/rules/conditions/0/value"
    assert Audience.objects.count() == 0


def test_an_empty_value_is_refused_at_its_condition(staff: Client) -> None:
    # given a rule-based audience
    audience = Audience.objects.create(name="Paris", kind="rules", rules=RULES)

    # when its rules are saved with a condition whose value is empty
    rules = {
        "combinator": "and",
        "conditions": [
            {"field": "locale", "operator": "exists"},
            {"field": "attributes.city", "operator": "equals", "value": ""},
        ],
    }
    response = staff.post(
        reverse("admin:audiences_audience_change", args=[audience.pk]),
        {"name": "Paris", "description": "", "rules": json.dumps(rules)},
    )

    # then the form says so at that condition, and the stored rules are unchanged
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["rules"] == [
        "Condition 2 › value: Give a value: an empty one would match nothing. For profiles "
        "without a value, use “does not exist”."
    ]
    assert response.context["rule_errors"] == [
        {
            "pointer": "/rules/conditions/1/value",
            "detail": "Give a value: an empty one would match nothing. For profiles without a "
            "value, use “does not exist”.",
        }
    ]
    audience.refresh_from_db()
    assert audience.rules == RULES


def test_change_page_shows_estimate_and_sample(staff: Client) -> None:
    # given
    people = make_people()
    audience = Audience.objects.create(
        name="Paris or Ben",
        kind="rules",
        rules={
            "combinator": "or",
            "conditions": [
                {"field": "attributes.city", "operator": "equals", "value": "Paris"},
                {"field": "identity.email", "operator": "equals", "value": "ben@example.com"},
            ],
        },
    )
    # when
    response = staff.get(reverse("admin:audiences_audience_change", args=[audience.pk]))
    # then
    assert response.status_code == 200
    assert response.context["audience_size"] == 2
    html = response.content.decode()
    assert '<strong id="audience-estimate">2</strong> profiles match now.' in html
    for name in ("ana", "ben"):
        url = reverse("admin:audiences_profile_change", args=[people[name].pk])
        assert f'href="{url}"' in html
    assert "email:ben@example.com" in html
    assert "audience-members-form" not in html  # no CSV upload for rule-based audiences


def test_sample_shows_at_most_ten(staff: Client) -> None:
    from audiences.models import Profile

    for i in range(12):
        Profile.objects.create(attributes={"n": i})
    audience = Audience.objects.create(
        name="All",
        kind="rules",
        rules={
            "combinator": "and",
            "conditions": [{"field": "attributes.n", "operator": "exists"}],
        },
    )
    response = staff.get(reverse("admin:audiences_audience_change", args=[audience.pk]))
    assert response.context["audience_size"] == 12
    assert len(response.context["audience_sample"]) == 10


def test_static_csv_upload_adds_members(staff: Client) -> None:
    # given
    people = make_people()
    audience = Audience.objects.create(name="Static", kind="static")
    AudienceMember.objects.create(audience=audience, profile=people["ben"])
    page = staff.get(reverse("admin:audiences_audience_change", args=[audience.pk]))
    assert page.context["member_count"] == 1
    assert "audience-members-form" in page.content.decode()
    csv = "email\nANA@example.com\nben@example.com\nzed@example.com\nnot-an-email\n\n"
    # when
    response = staff.post(
        reverse("admin:audiences_audience_members", args=[audience.pk]),
        {"namespace": "email", "file": SimpleUploadedFile("m.csv", csv.encode(), "text/csv")},
        follow=True,
    )
    # then
    members = set(
        AudienceMember.objects.filter(audience=audience).values_list("profile_id", flat=True)
    )
    assert members == {people["ana"].pk, people["ben"].pk}
    shown = [str(m) for m in response.context["messages"]]
    assert shown[0] == "1 profile added; 1 unchanged, 1 unknown, 1 invalid."
    assert shown[1] == "Data row 3: No profile has the identity email “zed@example.com”."
    assert shown[2].startswith("Data row 4: “not-an-email” is not a valid email address")
    assert response.context["member_count"] == 2


def test_csv_upload_can_remove_members(staff: Client) -> None:
    people = make_people()
    audience = Audience.objects.create(name="Static", kind="static")
    for name in ("ana", "cy"):
        AudienceMember.objects.create(audience=audience, profile=people[name])
    staff.post(
        reverse("admin:audiences_audience_members", args=[audience.pk]),
        {"namespace": "crm_id", "remove": "on", "file": SimpleUploadedFile("m.csv", b"C-2\n")},
    )
    assert list(
        AudienceMember.objects.filter(audience=audience).values_list("profile_id", flat=True)
    ) == [people["ana"].pk]


def test_csv_upload_to_a_rule_based_audience_is_refused(staff: Client) -> None:
    make_people()
    audience = Audience.objects.create(
        name="R",
        kind="rules",
        rules={"combinator": "and", "conditions": [{"field": "locale", "operator": "exists"}]},
    )
    response = staff.post(
        reverse("admin:audiences_audience_members", args=[audience.pk]),
        {"namespace": "email", "file": SimpleUploadedFile("m.csv", b"ana@example.com\n")},
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == [
        "“R” is rule-based: its members follow its rules."
    ]
    assert AudienceMember.objects.count() == 0


def test_static_audience_saved_without_rules(staff: Client) -> None:
    response = staff.post(
        reverse("admin:audiences_audience_add"),
        {"name": "Static", "description": "", "kind": "static", "rules": "{}"},
    )
    assert response.status_code == 302
    assert Audience.objects.get().rules == {}


def test_change_rules_of_an_existing_audience(staff: Client) -> None:
    audience = Audience.objects.create(
        name="R",
        kind="rules",
        rules={"combinator": "and", "conditions": [{"field": "locale", "operator": "exists"}]},
    )
    new_rules = {
        "combinator": "and",
        "conditions": [{"field": "locale", "operator": "equals", "value": "en"}],
    }
    response = staff.post(
        reverse("admin:audiences_audience_change", args=[audience.pk]),
        {"name": "R2", "description": "d", "rules": json.dumps(new_rules)},
    )
    assert response.status_code == 302
    audience.refresh_from_db()
    assert (audience.name, audience.description, audience.rules) == ("R2", "d", new_rules)


@pytest.mark.parametrize("method", ["get", "post"])
def test_members_page_with_a_malformed_id_is_404(staff: Client, method: str) -> None:
    # given a static audience with no members, and a profile the CSV names
    make_people()
    Audience.objects.create(name="Static", kind=Audience.Kind.STATIC)
    url = reverse("admin:audiences_audience_members", args=["not-a-uuid"])
    upload = SimpleUploadedFile("m.csv", b"ana@example.com\n", content_type="text/csv")

    # when the members page is asked for with an id that is not a UUID
    response = getattr(staff, method)(url, {"file": upload, "namespace": "email"})

    # then it is not found, and no member was added
    assert response.status_code == 404
    assert AudienceMember.objects.count() == 0
