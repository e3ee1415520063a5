"""Early warning (issue 13, R4): spikes of sign-ups per campaign and channel, sudden shares of
virtual-operator numbers and datacentre IPs, payment and refund spikes and complaint spikes.

A periodic job (`warnings_due`, run by `yunying worker`) looks at the last *closed* window (windows
are aligned to the clock: 10:00–10:10, 10:10–10:20, ...) and compares it with the same-length windows
of the baseline before it (24 h: 144 windows, empty ones count as 0) by median and a robust spread
(1.4826 × the median absolute deviation). A count is a spike when it reaches all of
RISK_WARNING_MIN_COUNT (a quiet campaign's 3 sign-ups are no spike), RISK_WARNING_RATIO × the median
and the median + RISK_WARNING_SPREAD_K × the spread (at least 1).

Sign-ups are counted from Decision rows at signup.create (not shadow ones): they carry the campaign
and channel in their signals and are kept, while the Hit rows of the counters live in Redis when
REDIS_URL is set and are pruned after exactly the baseline's day.

Each alert is one `EarlyWarning` row, unique per code, scope and window: two workers, or a second pass
over the same window, raise it once. The core Alert row and the message to the operations team
(RISK_ALERT_EMAILS, through the outbox's e-mail channel) are written in the same transaction.
An alert is information, not a block: a genuine rush on a hot campaign raises one too.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from yunying.commerce.events import OrderFact
from yunying.core.audit import audit_record
from yunying.core.permissions import Actor
from yunying.core.scrub import scrub_personal
from yunying.notify.delivery import OPERATIONS
from yunying.notify.services import outbox_enqueue
from yunying.risk.models import Complaint, ComplaintCategory, Decision, EarlyWarning, MoneyFact

SIGNUP_SPIKE = "risk.signup_spike"
VIRTUAL_SHARE = "risk.virtual_share"
DATACENTRE_SHARE = "risk.datacentre_share"
PAYMENT_SPIKE = "risk.payment_spike"
REFUND_SPIKE = "risk.refund_spike"
COMPLAINT_SPIKE = "risk.complaint_spike"
CODES = [SIGNUP_SPIKE, VIRTUAL_SHARE, DATACENTRE_SHARE, PAYMENT_SPIKE, REFUND_SPIKE, COMPLAINT_SPIKE]

TEMPLATE = "risk.warning"
# Decisions whose shares are watched: the entry points where a phone or an IP arrives from outside.
SHARE_ENTRIES = ["member.register", "sms.send", "signup.create", "coupon.claim"]


@dataclass(frozen=True)
class Windows:
    start: datetime  # of the baseline's first window
    window_start: datetime  # the last closed window
    end: datetime
    size: timedelta
    count: int  # windows in the baseline

    def index(self, at: datetime) -> int | None:
        """0..count-1 for a baseline window, count for the last window, None outside."""
        if at < self.start or at >= self.end:
            return None
        return int((at - self.start) / self.size)


def windows_at(now: datetime) -> Windows:
    size = timedelta(minutes=settings.RISK_WARNING_WINDOW_MINUTES)
    epoch = datetime(2000, 1, 1, tzinfo=now.tzinfo)
    end = epoch + size * int((now - epoch) / size)
    count = max(1, int(timedelta(hours=settings.RISK_WARNING_BASELINE_HOURS) / size))
    return Windows(start=end - size * (count + 1), window_start=end - size, end=end, size=size, count=count)


@dataclass(frozen=True)
class Spike:
    count: int
    median: float
    spread: float
    threshold: float


def spike_of(counts: list[int], current: int) -> Spike | None:
    """The spike when `current` is one against the baseline `counts`, else None."""
    median = statistics.median(counts) if counts else 0.0
    mad = statistics.median(abs(c - median) for c in counts) if counts else 0.0
    spread = max(1.4826 * mad, 1.0)
    threshold = max(
        float(settings.RISK_WARNING_MIN_COUNT),
        settings.RISK_WARNING_RATIO * median,
        median + settings.RISK_WARNING_SPREAD_K * spread,
    )
    if current >= threshold and current > median:
        return Spike(count=current, median=median, spread=round(spread, 2), threshold=round(threshold, 2))
    return None


def _series(events: Iterable[tuple[str, datetime, int]], windows: Windows) -> dict[str, list[int]]:
    """Per scope, the sum per window (count + 1 values; the last is the current window)."""
    series: dict[str, list[int]] = defaultdict(lambda: [0] * (windows.count + 1))
    for scope, at, weight in events:
        index = windows.index(at)
        if index is not None:
            series[scope][index] += weight
    return series


def _spikes(code: str, series: dict[str, list[int]], windows: Windows, extra=None) -> int:
    raised = 0
    for scope, values in sorted(series.items()):
        spike = spike_of(values[:-1], values[-1])
        if spike is not None:
            data = {"count": spike.count, "median": spike.median, "threshold": spike.threshold}
            data.update((extra or {}).get(scope, {}))
            raised += _raise(code, scope, windows, data)
    return raised


def _decisions(windows: Windows, entries: list[str]):
    return Decision.objects.filter(
        entry__in=entries, shadow=False, at__gte=windows.start, at__lt=windows.end
    ).values_list("entry", "at", "signals")


def signup_spikes(windows: Windows) -> int:
    events = []
    for _entry, at, signals in _decisions(windows, ["signup.create"]):
        campaign = str(signals.get("campaign") or "")
        events.append((f"campaign={campaign} channel={signals.get('channel') or ''}", at, 1))
    return _spikes(SIGNUP_SPIKE, _series(events, windows), windows)


def share_spikes(windows: Windows) -> int:
    """Per entry point: the share of decisions in the window with a virtual-operator number (of those
    with a phone) or a datacentre IP (of those with an IP class), against the baseline's share."""
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # base n, base hits, n, hits
    for entry, at, signals in _decisions(windows, SHARE_ENTRIES):
        index = windows.index(at)
        if index is None:
            continue
        current = 2 if index == windows.count else 0
        for code, name, value in (
            (VIRTUAL_SHARE, "carrier_class", "virtual"),
            (DATACENTRE_SHARE, "ip_class", "datacentre"),
        ):
            if signals.get(name) in (None, "unknown"):
                continue
            tally = totals[(code, entry)]
            tally[current] += 1
            tally[current + 1] += signals.get(name) == value
    raised = 0
    for (code, entry), (base_n, base_hits, n, hits) in sorted(totals.items()):
        if n < settings.RISK_WARNING_MIN_COUNT:
            continue
        base_share = base_hits / base_n if base_n else 0.0
        share = hits / n
        if share >= base_share + settings.RISK_WARNING_SHARE_DELTA:
            data = {
                "count": n,
                "matching": hits,
                "share": round(share, 3),
                "baseline_share": round(base_share, 3),
            }
            raised += _raise(code, f"entry={entry}", windows, data)
    return raised


def money_spikes(windows: Windows) -> int:
    """Orders recorded (payments) and refunds per window, from the order facts risk keeps."""
    rows = list(
        MoneyFact.objects.filter(at__gte=windows.start, at__lt=windows.end).values_list(
            "kind", "at", "amount_fen"
        )
    )
    raised = 0
    for code, kind in ((PAYMENT_SPIKE, "recorded"), (REFUND_SPIKE, "refunded")):
        scope = f"kind={kind}"
        counts = _series(((scope, at, 1) for k, at, _fen in rows if k == kind), windows)
        amounts = _series(((scope, at, fen) for k, at, fen in rows if k == kind), windows)
        extra = {scope: {"amount_fen": amounts[scope][-1]}} if scope in amounts else {}
        raised += _spikes(code, counts, windows, extra)
    return raised


def complaint_spikes(windows: Windows) -> int:
    rows = Complaint.objects.filter(at__gte=windows.start, at__lt=windows.end).values_list("category", "at")
    events = [(f"category={category}", at, 1) for category, at in rows]
    return _spikes(COMPLAINT_SPIKE, _series(events, windows), windows)


def _raise(code: str, scope: str, windows: Windows, data: dict) -> int:
    """Store the warning, its core Alert and its message once; 0 when this window's was raised already."""
    # Here, not at the top: risk's AppConfig imports this module, and prometheus_client must not be
    # imported before the server sets PROMETHEUS_MULTIPROC_DIR.
    from yunying.core.alerts import alert_record_with

    data = {"scope": scope, "window_start": windows.window_start.isoformat(), "window_end": windows.end.isoformat(), **data}  # fmt: skip
    try:
        with transaction.atomic():
            warning = EarlyWarning.objects.create(
                code=code, scope=scope, window_start=windows.window_start, window_end=windows.end, data=data
            )
            alert = alert_record_with(code, **data)
            EarlyWarning.objects.filter(pk=warning.pk).update(alert_id=alert.pk)
            if settings.RISK_ALERT_EMAILS:
                outbox_enqueue(
                    member_id=OPERATIONS,
                    channels=["email"],
                    template=TEMPLATE,
                    context={"warning_id": warning.pk},
                    ref=f"risk.warning:{warning.pk}",
                    dedupe="once",
                )
    except IntegrityError:  # another worker, or an earlier pass, raised it
        return 0
    return 1


# A window is judged this long after it closed, so events committed a moment late are in it.
GRACE = timedelta(seconds=30)


def warnings_due(now: datetime | None = None) -> dict[str, int]:
    """The periodic job: judge the last closed window once (a marker in the cache; the worker runs every few
    seconds; the baseline is read once per window, not per pass). Idempotent across processes: the
    unique EarlyWarning row stops a second alert."""
    windows = windows_at((now or timezone.now()) - GRACE)
    marker = f"risk.warnings:judged:{windows.end.isoformat()}"
    if cache.get(marker):
        return {}
    raised = (
        signup_spikes(windows) + share_spikes(windows) + money_spikes(windows) + complaint_spikes(windows)
    )
    cache.set(marker, 1, timeout=int(windows.size.total_seconds()) * 2)
    return {"risk_warnings": raised} if raised else {}


# --- order facts (commerce.events) --------------------------------------------------------------


def order_fact_record(fact: OrderFact) -> None:
    """commerce.events handler, in the recording transaction: keep amount and time for the counts."""
    MoneyFact.objects.bulk_create(
        [
            MoneyFact(
                kind=str(fact.kind), order_id=fact.order_id, event_id=fact.event_id or 0,
                amount_fen=fact.amount_fen, at=fact.at,
            )
        ],
        ignore_conflicts=True,
    )  # fmt: skip


def money_facts_prune(now: datetime) -> int:
    horizon = (
        now
        - timedelta(hours=settings.RISK_WARNING_BASELINE_HOURS)
        - 2 * timedelta(minutes=settings.RISK_WARNING_WINDOW_MINUTES)
    )
    deleted, _rows = MoneyFact.objects.filter(at__lt=horizon).delete()
    return deleted


# --- complaints -----------------------------------------------------------------------------------


def complaint_record(
    *, category: str, actor: Actor, subject_ref: str = "", member_ref: str = "", channel: str = "",
    note: str = "", at: datetime | None = None,
) -> Complaint:  # fmt: skip
    """Record a complaint from customer service. Raises ValueError for an unknown category (the API
    validates it first)."""
    if category not in ComplaintCategory.values:
        raise ValueError(f"unknown complaint category {category!r}")
    with transaction.atomic():
        complaint = Complaint.objects.create(
            category=category, subject_ref=subject_ref, member_ref=member_ref, channel=channel,
            note=scrub_personal(note.replace("\x00", "")),  # customer service may quote a phone: never kept in clear
            at=min(at, timezone.now()) if at else timezone.now(),  # a clock ahead cannot hide it from a window
            reported_by=actor.label[:150],
        )  # fmt: skip
        # The note is free text from customer service (it may quote the member): not on the trail.
        audit_record(
            actor=actor, action="risk.complaint", object_type="complaint", object_id=complaint.pk,
            after={"category": category, "channel": channel, "subject_ref": subject_ref},
        )  # fmt: skip
    return complaint


# --- the message to the operations team -----------------------------------------------------------

TITLES = {
    SIGNUP_SPIKE: gettext_noop("Sign-up spike"),
    VIRTUAL_SHARE: gettext_noop("Share of virtual-operator numbers jumped"),
    DATACENTRE_SHARE: gettext_noop("Share of datacentre IPs jumped"),
    PAYMENT_SPIKE: gettext_noop("Payment spike"),
    REFUND_SPIKE: gettext_noop("Refund spike"),
    COMPLAINT_SPIKE: gettext_noop("Complaint spike"),
}


def messages_load(contexts: list[dict]):
    warnings = EarlyWarning.objects.in_bulk([c.get("warning_id") for c in contexts])

    def render(template: str, context: dict, channel: str):
        warning = warnings.get(context.get("warning_id"))
        if warning is None:
            return None
        title = _(TITLES.get(warning.code, warning.code))
        lines = [f"{key}: {value}" for key, value in warning.data.items()]
        body = "\n".join([title, "", *lines, "", _("See the alerts in the console.")])
        return f"[Yunying] {title}: {warning.scope}", body

    return render


# --- for the console ------------------------------------------------------------------------------


def warnings_recent(*, limit: int = 50, code: str | None = None) -> list[dict]:
    """The newest early-warning alerts for the console's risk pages: title, scope, window and counts
    (no personal data). Also in core's Alert rows under their codes (risk.*)."""
    rows = EarlyWarning.objects.order_by("-window_end", "-id")
    if code:
        rows = rows.filter(code=code)
    return [
        {
            "id": w.pk, "code": w.code, "title": _(TITLES.get(w.code, w.code)), "scope": w.scope,
            "window_start": w.window_start, "window_end": w.window_end, "data": w.data, "alert_id": w.alert_id,
        }
        for w in rows[:limit]
    ]  # fmt: skip
