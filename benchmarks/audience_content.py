"""What the audience benchmarks send, shared by Clarion's campaigns and the bare loops.

No Django here: the bare loops (benchmarks/audience_bare.py) import it without a
database, and benchmarks/audience_seed.py writes the same content into campaigns.
"""

from __future__ import annotations

from typing import Any

FIRST_NAMES = ["Ana", "Bo", "Chen", "Dara", "Eli", "Femi", "Gus", "Hana", "Ivo", "Jun"]
CONTEXT: dict[str, Any] = {"product": {"name": "Rain jacket", "price": "89.00"}}
FROM_NAME, FROM_EMAIL, REPLY_TO = "Clarion Bench Shop", "shop@example.com", "help@example.com"

# A newsletter-sized email: a profile and a context variable, a link (tracked by Clarion).
EMAIL_CONTENT = {
    "subject": "{{ profile.person.name.firstName }}, the {{ context.product.name }} is back",
    "preheader": "Only {{ context.product.price }} this week",
    "html": (
        "<html><body><h1>Hello {{ profile.person.name.firstName }}</h1>"
        "<p>The {{ context.product.name }} you liked is back in stock, for "
        "{{ context.product.price }} this week only.</p>"
        + "<p>Layers, pockets and a hood that stays up in the wind. " * 8
        + '</p><p><a href="https://shop.example/jacket">See it</a></p></body></html>'
    ),
    "text": (
        "Hello {{ profile.person.name.firstName }},\n\nThe {{ context.product.name }} is back "
        "for {{ context.product.price }}: https://shop.example/jacket\n"
    ),
}
PUSH_CONTENT = {
    "title": "{{ profile.person.name.firstName }}, it is back",
    "body": "The {{ context.product.name }} is back for {{ context.product.price }}",
    "deep_link": "https://shop.example/jacket",
    "image_url": "https://shop.example/jacket.png",
}


def first_name(index: int) -> str:
    return FIRST_NAMES[index % len(FIRST_NAMES)]


def email_address(index: int) -> str:
    return f"person{index}@example.com"


def profile_attributes(index: int) -> dict[str, Any]:
    return {"person": {"name": {"firstName": first_name(index)}}}
