"""What a report shows, derived from summed rollups (docs/reports.md, "Metrics").

``Metrics.from_sums`` takes ``{(metric, key): count}`` for one group (or for the
whole report) and derives the numbers a marketer reads: bounces by kind, failures
and exclusions by reason, opens with the estimate adjusted for privacy proxies,
clicks per link, and the rates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class LinkClicks:
    """Clicks on one link of the message (its 1-based index), and its target when known."""

    link: int
    total: int = 0
    unique: int = 0
    machine: int = 0
    machine_unique: int = 0
    url: str = ""


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass(frozen=True, slots=True)
class Metrics:
    """The counts and rates of a report or of one of its groups."""

    targeted: int = 0
    sent: int = 0
    delivered: int = 0
    bounced_hard: int = 0
    bounced_soft: int = 0
    failed: dict[str, int] = field(default_factory=dict)
    excluded: dict[str, int] = field(default_factory=dict)
    retried: int = 0
    rejected: int = 0
    complained: int = 0
    unsubscribed: int = 0
    resubscribed: int = 0
    opens: int = 0
    opens_unique: int = 0
    opens_machine: int = 0
    opens_machine_unique: int = 0
    clicks: int = 0
    clickers: int = 0
    clicks_machine: int = 0
    links: dict[int, LinkClicks] = field(default_factory=dict)
    # Whether rates divide by delivered (the channel reports deliveries) or by sent.
    delivered_base: bool = False

    @classmethod
    def from_sums(cls, sums: Mapping[tuple[str, str], int], *, delivered_base: bool) -> Metrics:
        one: dict[str, int] = {}
        by_key: dict[str, dict[str, int]] = {}
        for (metric, key), count in sums.items():
            one[metric] = one.get(metric, 0) + count
            by_key.setdefault(metric, {})[key] = by_key.get(metric, {}).get(key, 0) + count
        links: dict[int, dict[str, int]] = {}
        for metric, name in (
            ("clicked", "total"),
            ("clicked_unique", "unique"),
            ("clicked_machine", "machine"),
            ("clicked_machine_unique", "machine_unique"),
        ):
            for key, count in by_key.get(metric, {}).items():
                if key.isdigit():
                    links.setdefault(int(key), {})[name] = count
        bounced = by_key.get("bounced", {})
        return cls(
            targeted=one.get("targeted", 0),
            sent=one.get("sent", 0),
            delivered=one.get("delivered", 0),
            bounced_hard=sum(n for k, n in bounced.items() if k != "soft"),
            bounced_soft=bounced.get("soft", 0),
            failed=_by_reason(by_key.get("failed", {})),
            excluded=_by_reason(by_key.get("excluded", {})),
            retried=one.get("retried", 0),
            rejected=one.get("rejected", 0),
            complained=one.get("complained", 0),
            unsubscribed=one.get("unsubscribed", 0),
            resubscribed=one.get("resubscribed", 0),
            opens=one.get("opened", 0),
            opens_unique=one.get("opened_unique", 0),
            opens_machine=one.get("opened_machine", 0),
            opens_machine_unique=one.get("opened_machine_unique", 0),
            clicks=one.get("clicked", 0),
            clickers=one.get("clicked_messages", 0),
            clicks_machine=one.get("clicked_machine", 0),
            links={
                n: LinkClicks(
                    link=n,
                    total=links[n].get("total", 0),
                    unique=links[n].get("unique", 0),
                    machine=links[n].get("machine", 0),
                    machine_unique=links[n].get("machine_unique", 0),
                )
                for n in sorted(links)
            },
            delivered_base=delivered_base,
        )

    @property
    def failed_total(self) -> int:
        return sum(self.failed.values())

    @property
    def excluded_total(self) -> int:
        return sum(self.excluded.values())

    @property
    def bounced(self) -> int:
        return self.bounced_hard + self.bounced_soft

    @property
    def base(self) -> int:
        """What rates divide by: delivered, or sent when the channel reports no deliveries."""
        return self.delivered if self.delivered_base else self.sent

    @property
    def opens_estimated(self) -> int:
        """Unique opens adjusted for privacy proxies (Apple Mail Privacy Protection).

        A proxy opens every message it receives, so a machine-made open says nothing
        about the person. The estimate assumes the people behind a proxy open at the
        rate measured among the others: human unique opens, plus the messages a machine
        opened times that rate. A message opened both ways would count in both terms;
        that is rare (behind a proxy, the person's own opens come through it too, and
        are flagged as well) and the estimate is capped at the base.
        """
        others = self.base - self.opens_machine_unique
        if others <= 0:
            return min(self.opens_unique, self.base) if self.base else self.opens_unique
        rate = min(1.0, self.opens_unique / others)
        return min(self.base, round(self.opens_unique + self.opens_machine_unique * rate))

    @property
    def click_through_rate(self) -> float | None:
        """Messages clicked by a person / delivered (or sent)."""
        return _rate(self.clickers, self.base)

    @property
    def click_to_open_rate(self) -> float | None:
        """Messages clicked by a person / messages opened by a person."""
        return _rate(self.clickers, self.opens_unique)

    def as_data(self) -> dict[str, Any]:
        """The API's camelCase shape (delivery.api.reports)."""
        return {
            "targeted": self.targeted,
            "sent": self.sent,
            "delivered": self.delivered,
            "bounced": {
                "total": self.bounced,
                "hard": self.bounced_hard,
                "soft": self.bounced_soft,
            },
            "failed": {"total": self.failed_total, "byReason": _reasons(self.failed)},
            "excluded": {"total": self.excluded_total, "byReason": _reasons(self.excluded)},
            "retried": self.retried,
            "rejected": self.rejected,
            "complained": self.complained,
            "unsubscribed": self.unsubscribed,
            "resubscribed": self.resubscribed,
            "opens": {
                "total": self.opens,
                "unique": self.opens_unique,
                "machine": self.opens_machine,
                "machineUnique": self.opens_machine_unique,
                "estimated": self.opens_estimated,
            },
            "clicks": {
                "total": self.clicks,
                "unique": self.clickers,
                "machine": self.clicks_machine,
                "byLink": [
                    {
                        "link": link.link,
                        "url": link.url,
                        "total": link.total,
                        "unique": link.unique,
                        "machine": link.machine,
                        "machineUnique": link.machine_unique,
                    }
                    for link in self.links.values()
                ],
            },
            "rates": {
                "base": "delivered" if self.delivered_base else "sent",
                "clickThrough": self.click_through_rate,
                "clickToOpen": self.click_to_open_rate,
            },
        }


def _by_reason(counts: Mapping[str, int]) -> dict[str, int]:
    """Largest first, then by reason, without zeros."""
    return dict(sorted(((k, n) for k, n in counts.items() if n), key=lambda kn: (-kn[1], kn[0])))


def _reasons(counts: Mapping[str, int]) -> list[dict[str, Any]]:
    return [{"reason": reason, "count": count} for reason, count in counts.items()]
