"""The record of processing activities (UK GDPR Article 30) for the partnership's information
governance: the partners, every data sharing agreement (parties, purposes, lawful basis and
condition, data categories, retention, status, review date, document link) and how many live case
shares rely on each, and between which sectors.

Only the partnership's auditors read it (cases.access.can_read_processing_record). It holds no
case content and no person: the share counts are aggregates, published by the same small-number
rules as the partnership figures (reports/disclosure.py): each table of counts is a line published
with its total (under the threshold shown as "<10", others rounded, more hidden where a hidden
count could be worked out from the total), and the total, the same in both tables, is hidden in
both if either had to hide it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from cases import access
from cases.agreements import in_force, live_shares
from cases.models import DataCategory, DataSharingAgreement, LawfulBasis
from core import csv as safe_csv
from partners.actor import Actor
from partners.models import Partner, Sector
from reports.disclosure import ROUNDING_BASE, Cell, publish_count, publish_row


@dataclass
class AgreementEntry:
    id: object
    name: str
    parties: list[str]
    purposes: str
    lawful_basis: str
    condition: str
    data_categories: list[str]
    retention_months: int
    status: str
    in_force: bool
    starts_on: date
    review_date: date
    ends_on: date | None
    document_url: str
    live_shares: Cell


@dataclass
class SectorPair:
    shared_by: str  # the lead partner's sector
    shared_with: str
    live_shares: Cell


@dataclass
class ProcessingRecord:
    at: datetime
    threshold: int
    base: int
    partners: list[tuple[str, str, bool]]  # (name, sector, active)
    agreements: list[AgreementEntry]
    pairs: list[SectorPair]
    total: Cell


def _publish(values: list[int], threshold: int, base: int) -> tuple[list[Cell], Cell]:
    if not values:
        return [], publish_count(0, threshold, base)
    return publish_row(values, threshold, base)


def processing_record(*, actor: Actor, now: datetime | None = None) -> ProcessingRecord:
    access.check_processing_record(actor, action="view_report")
    now = now or timezone.now()
    today = timezone.localdate(now)
    threshold, base = settings.SUPPRESSION_THRESHOLD, ROUNDING_BASE
    sectors, bases = dict(Sector.choices), dict(LawfulBasis.choices)
    categories = dict(DataCategory.choices)

    agreements = list(DataSharingAgreement.objects.prefetch_related("parties").order_by("name"))
    shares = live_shares(now)
    by_agreement = dict(
        shares.values_list("agreement_id").annotate(n=Count("pk")).values_list("agreement_id", "n")
    )
    by_pair = {
        (lead, shared): n
        for lead, shared, n in shares.values_list("case__lead_partner__sector", "partner__sector")
        .annotate(n=Count("pk"))
        .values_list("case__lead_partner__sector", "partner__sector", "n")
    }
    # Every pair of sectors an agreement lets share, so a pair with no share is listed too (its
    # absence would say what "<10" hides).
    for agreement in agreements:
        parties = list(agreement.parties.all())
        for lead in parties:
            for shared in parties:
                if lead.pk != shared.pk:
                    by_pair.setdefault((lead.sector, shared.sector), 0)
    pairs = sorted(
        by_pair, key=lambda pair: (sectors.get(pair[0], pair[0]), sectors.get(pair[1], pair[1]))
    )

    agreement_cells, agreement_total = _publish(
        [by_agreement.get(a.pk, 0) for a in agreements], threshold, base
    )
    pair_cells, pair_total = _publish([by_pair[p] for p in pairs], threshold, base)
    # One total, published once: hidden in both tables if either had to hide it.
    total = next((c for c in (agreement_total, pair_total) if not c.shown), agreement_total)

    return ProcessingRecord(
        at=now,
        threshold=threshold,
        base=base,
        partners=[
            (p.name, sectors.get(p.sector, p.sector), p.active)
            for p in Partner.objects.order_by("name")
        ],
        agreements=[
            AgreementEntry(
                id=a.pk,
                name=a.name,
                parties=sorted(p.name for p in a.parties.all()),
                purposes=a.purposes,
                lawful_basis=str(bases.get(a.lawful_basis, a.lawful_basis)),
                condition=a.condition,
                data_categories=[str(categories.get(c, c)) for c in a.data_categories],
                retention_months=a.retention_months,
                status=a.get_status_display(),
                in_force=in_force(a, today),
                starts_on=a.starts_on,
                review_date=a.review_date,
                ends_on=a.ends_on,
                document_url=a.document_url,
                live_shares=cell,
            )
            for a, cell in zip(agreements, agreement_cells, strict=True)
        ],
        pairs=[
            SectorPair(str(sectors.get(lead, lead)), str(sectors.get(shared, shared)), cell)
            for (lead, shared), cell in zip(pairs, pair_cells, strict=True)
        ],
        total=total,
    )


def notes(record: ProcessingRecord) -> list[str]:
    t = record.threshold
    return [
        f"Counts of live case shares under {t}, zero included, are shown as <{t}; [c] hides a "
        f"count that could otherwise be worked out from the total; other counts are rounded to "
        f"the nearest {record.base}, the total separately from its parts.",
        "A share is live from when the lead partner shares the case until it is revoked or expires.",
    ]


def csv_text(record: ProcessingRecord) -> str:
    """The record as a spreadsheet: partners, agreements with their live shares, sector pairs."""
    t = record.threshold
    out = io.StringIO()
    writer = safe_csv.writer(out)
    writer.writerow(
        [f"Record of processing activities (UK GDPR Article 30), {record.at:%-d %B %Y %H:%M}"]
    )
    writer.writerow([])
    writer.writerow(["Partners"])
    writer.writerow(["Partner", "Sector", "Active"])
    writer.writerows(
        [name, sector, "yes" if active else "no"] for name, sector, active in record.partners
    )
    writer.writerow([])
    writer.writerow(["Data sharing agreements"])
    writer.writerow(
        [
            "Agreement", "Parties", "Purposes", "Lawful basis", "Condition", "Data categories",
            "Retention (months)", "Status", "Shares may rely on it", "Starts", "Review date",
            "Ends", "Document", "Live shares",
        ]
    )  # fmt: skip
    for a in record.agreements:
        writer.writerow(
            [
                a.name, "; ".join(a.parties), a.purposes, a.lawful_basis, a.condition,
                "; ".join(a.data_categories), a.retention_months, a.status,
                "yes" if a.in_force else "no", a.starts_on.isoformat(), a.review_date.isoformat(),
                a.ends_on.isoformat() if a.ends_on else "", a.document_url,
                a.live_shares.display(t),
            ]
        )  # fmt: skip
    writer.writerow(["All agreements", *[""] * 12, record.total.display(t)])
    writer.writerow([])
    writer.writerow(["Live shares by sector"])
    writer.writerow(["Lead partner's sector", "Shared with sector", "Live shares"])
    writer.writerows([p.shared_by, p.shared_with, p.live_shares.display(t)] for p in record.pairs)
    writer.writerow(["All sectors", "", record.total.display(t)])
    writer.writerow([])
    for note in notes(record):
        writer.writerow([note])
    return out.getvalue()
