"""Segments and RFM (A4, M5, M6): the only writer of the analytics tables.

- `rfm_recompute` reads the order facts as Arrow, computes scores and labels with DuckDB
  (analytics.rfm) and replaces the MemberRfm table, then records the day's label counts.
- Segments: create / update (audited), `segment_preview` counts a rule without saving it, and
  `segment_recompute` makes SegmentMember the rule's members now, appending an entered / left row per
  change (the membership history) and syncing the segment's rule-based tag, if any.
- `segment_message_queue` queues a marketing message to a segment's members who allow marketing.
- `segments_recompute_job` is the periodic job (registered in AnalyticsConfig.ready).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from yunying.analytics import rfm
from yunying.analytics.errors import SegmentError
from yunying.analytics.models import (
    Lifecycle,
    LifecycleSnapshot,
    MemberRfm,
    MembershipChange,
    Segment,
    SegmentMember,
    SegmentMembershipEvent,
)
from yunying.analytics.rules import Group, referenced_segments, rule_parse, rule_q
from yunying.core.audit import audit_record
from yunying.core.errors import DomainError
from yunying.core.permissions import Actor
from yunying.members import tags as member_tags
from yunying.members.consent import marketing_allowed
from yunying.members.models import Member
from yunying.notify.services import outbox_add, outbox_build

MARKETING_TEMPLATE = "segment.marketing"


# --- RFM and lifecycle ------------------------------------------------------------------------


@dataclass(frozen=True)
class RfmRun:
    members: int
    orders: int
    read_seconds: float
    compute_seconds: float
    write_seconds: float


def rfm_recompute(*, now: datetime | None = None) -> RfmRun:
    """Recompute every member's scores and label from the order facts, and the day's snapshot."""
    now = now or timezone.now()
    started = time.perf_counter()
    orders = rfm.orders_arrow()
    members = rfm.members_arrow()
    read = time.perf_counter()
    scores = rfm.rfm_compute(orders, members, now=now, thresholds=settings.LIFECYCLE_THRESHOLDS)
    computed = time.perf_counter()
    with transaction.atomic():
        _rfm_replace(scores, now=now)
        _snapshot_record(scores, now=now)
    written = time.perf_counter()
    return RfmRun(
        members=members.num_rows,
        orders=orders.num_rows,
        read_seconds=read - started,
        compute_seconds=computed - read,
        write_seconds=written - computed,
    )


def _rfm_rows(scores, now: datetime):
    """Row tuples in MemberRfm's column order (timestamps as UTC text the backend reads back)."""
    stamp = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    suffix = "+00:00" if connection.vendor == "postgresql" else ""
    paid = pc.strftime(
        pc.cast(pc.multiply(scores["last_paid_epoch"], 1_000_000), "timestamp[us]"),
        format="%Y-%m-%d %H:%M:%S",
    ).to_pylist()
    columns = [
        scores[name].to_pylist() for name in ("member_id", "recency_days", "frequency", "monetary_fen")
    ]
    scores_cols = [scores[name].to_pylist() for name in ("r_score", "f_score", "m_score", "lifecycle")]
    for member_id, recency, frequency, monetary, paid_at, r, f, m, label in zip(
        *columns, paid, *scores_cols, strict=True
    ):
        yield (
            member_id,
            None if paid_at is None else paid_at + suffix,
            recency,
            frequency,
            monetary,
            r,
            f,
            m,
            label,
            stamp + suffix,
        )


def _rfm_csv(scores, now: datetime) -> bytes:
    """The scores as CSV in _RFM_COLUMNS order (an empty field is NULL to COPY)."""
    paid = pc.binary_join_element_wise(
        pc.strftime(
            pc.cast(pc.multiply(scores["last_paid_epoch"], 1_000_000), "timestamp[us]"),
            format="%Y-%m-%d %H:%M:%S",
        ),
        pa.scalar("+00"),
        "",
    )
    stamp = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") + "+00"
    table = pa.table(
        {
            "member_id": scores["member_id"],
            "last_paid_at": paid,
            "recency_days": scores["recency_days"],
            "frequency": scores["frequency"],
            "monetary_fen": scores["monetary_fen"],
            "r_score": scores["r_score"],
            "f_score": scores["f_score"],
            "m_score": scores["m_score"],
            "lifecycle": scores["lifecycle"],
            "computed_at": pa.array([stamp] * scores.num_rows, pa.string())
            if scores.num_rows
            else pa.array([], pa.string()),
        }
    )
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(
        table, sink, write_options=pa_csv.WriteOptions(include_header=False, quoting_style="needed")
    )
    return sink.getvalue().to_pybytes()


_RFM_COLUMNS = (
    "member_id",
    "last_paid_at",
    "recency_days",
    "frequency",
    "monetary_fen",
    "r_score",
    "f_score",
    "m_score",
    "lifecycle",
    "computed_at",
)


def _rfm_replace(scores, *, now: datetime) -> None:
    """Replace the whole table: COPY on PostgreSQL, batched executemany on SQLite (the ORM's
    bulk_create builds an object per row, too slow for a million; tests compare with the ORM)."""
    table = MemberRfm._meta.db_table
    columns = ", ".join(_RFM_COLUMNS)
    rows = _rfm_rows(scores, now)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # TRUNCATE, not DELETE: a million dead rows are not left to vacuum. Its exclusive lock
            # also makes a second compute (another worker) wait for this one; readers of the scores
            # wait the few seconds of the write. SQLite runs one write transaction at a time anyway.
            cursor.execute("SET LOCAL lock_timeout = '120s'")
            # Django's foreign keys are deferred: rows this transaction wrote before (a second
            # compute in one transaction) leave pending checks that TRUNCATE refuses. Run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"TRUNCATE {table}")
        else:
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608 (name from model meta)
        if connection.vendor == "postgresql":
            # Arrow writes the CSV in C++ (a Python tuple per row cost ~25 s per million members).
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT csv)") as copy:
                copy.write(_rfm_csv(scores, now))
            return
        marks = ", ".join(["%s"] * len(_RFM_COLUMNS))
        sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608
        batch: list[tuple] = []
        for row in rows:
            batch.append(row)
            if len(batch) == 50_000:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)


def _snapshot_record(scores, *, now: datetime) -> None:
    day = timezone.localdate(now)
    counts = {label: 0 for label in Lifecycle.values}
    for row in pc.value_counts(scores["lifecycle"]).to_pylist():
        counts[row["values"]] = row["counts"]
    for label, count in counts.items():
        LifecycleSnapshot.objects.update_or_create(
            day=day, lifecycle=label, defaults={"count": count, "computed_at": now}
        )


# --- Segments ---------------------------------------------------------------------------------


def segment_get(segment_id: int) -> Segment:
    """Raises: segment.not_found."""
    segment = Segment.objects.select_related("tag").filter(pk=segment_id).first()
    if segment is None:
        raise DomainError(SegmentError.NOT_FOUND, segment_id=segment_id)
    return segment


def segment_queryset(rule: Group, *, now: datetime | None = None):
    """The members a rule matches now: the one query behind the preview and the recompute."""
    return Member.objects.filter(rule_q(rule, now=now or timezone.now()))


def segment_preview(*, rules: dict, now: datetime | None = None) -> int:
    """How many members the rule matches now, without saving anything.

    Raises: core.invalid (a field error per problem)."""
    return segment_queryset(rule_parse(rules), now=now).count()


def _snapshot(segment: Segment) -> dict:
    return {
        "name": segment.name,
        "description": segment.description,
        "rules": segment.rules,
        "tag": segment.tag.name if segment.tag_id else None,
    }


def _tag_for(name: str | None, segment: Segment | None):
    """Raises: segment.tag_taken."""
    if not name:
        return None
    tag = member_tags.rule_tag_ensure(name=name)
    if tag is None or Segment.objects.filter(tag=tag).exclude(pk=getattr(segment, "pk", None)).exists():
        raise DomainError(SegmentError.TAG_TAKEN, tag=name)
    return tag


def segment_create(
    *, actor: Actor, name: str, rules: dict, description: str = "", tag_name: str | None = None
) -> Segment:
    """Save a new segment (its members come at its first recompute).

    Raises: core.invalid, segment.name_taken, segment.tag_taken."""
    rule = rule_parse(rules)
    with transaction.atomic():
        if Segment.objects.filter(name=name).exists():
            raise DomainError(SegmentError.NAME_TAKEN, name=name)
        try:
            with transaction.atomic():
                segment = Segment.objects.create(
                    name=name,
                    description=description,
                    rules=rule.model_dump(mode="json", exclude_defaults=True),
                    created_by=actor.label[:80],
                    tag=_tag_for(tag_name, None),
                )
        except IntegrityError:  # a concurrent create took the name
            raise DomainError(SegmentError.NAME_TAKEN, name=name) from None
        audit_record(
            actor=actor,
            action="segment.create",
            object_type="segment",
            object_id=segment.pk,
            after=_snapshot(segment),
        )
    return segment


def segment_update(
    *,
    actor: Actor,
    segment_id: int,
    name: str,
    rules: dict,
    description: str = "",
    tag_name: str | None = None,
) -> Segment:
    """Change a segment's name, description, rule or tag (members change at the next recompute).

    Raises: segment.not_found, core.invalid, segment.self_reference, segment.name_taken,
    segment.tag_taken."""
    rule = rule_parse(rules)
    if segment_id in referenced_segments(rule):
        raise DomainError(SegmentError.SELF_REFERENCE, segment_id=segment_id)
    with transaction.atomic():
        segment = segment_get(segment_id)
        before = _snapshot(segment)
        if Segment.objects.filter(name=name).exclude(pk=segment.pk).exists():
            raise DomainError(SegmentError.NAME_TAKEN, name=name)
        segment.name = name
        segment.description = description
        segment.rules = rule.model_dump(mode="json", exclude_defaults=True)
        segment.tag = _tag_for(tag_name, segment)
        segment.save()
        audit_record(
            actor=actor,
            action="segment.update",
            object_type="segment",
            object_id=segment.pk,
            before=before,
            after=_snapshot(segment),
        )
    return segment


@dataclass(frozen=True)
class Recompute:
    members: int
    entered: int
    left: int


def segment_recompute(
    *, segment_id: int, actor: Actor | None = None, now: datetime | None = None
) -> Recompute:
    """Make the segment's members the rule's members now; append the history of who entered and
    left; sync its rule-based tag. `actor` is the operator who asked (audited), None for the schedule.

    Raises: segment.not_found."""
    now = now or timezone.now()
    with transaction.atomic():
        # Lock the segment row (on PostgreSQL) so two recomputes of one segment take turns; SQLite
        # already runs one write transaction at a time.
        segment = Segment.objects.select_for_update().filter(pk=segment_id).first()
        if segment is None:
            raise DomainError(SegmentError.NOT_FOUND, segment_id=segment_id)
        rule = rule_parse(segment.rules)
        wanted = set(segment_queryset(rule, now=now).values_list("id", flat=True))
        current = set(SegmentMember.objects.filter(segment=segment).values_list("member_id", flat=True))
        entered, left = sorted(wanted - current), sorted(current - wanted)
        for start in range(0, len(left), 900):
            SegmentMember.objects.filter(segment=segment, member_id__in=left[start : start + 900]).delete()
        SegmentMember.objects.bulk_create(
            [SegmentMember(segment=segment, member_id=m, since=now) for m in entered], batch_size=1000
        )
        SegmentMembershipEvent.objects.bulk_create(
            [
                SegmentMembershipEvent(segment=segment, member_id=m, change=MembershipChange.ENTERED, at=now)
                for m in entered
            ]
            + [
                SegmentMembershipEvent(segment=segment, member_id=m, change=MembershipChange.LEFT, at=now)
                for m in left
            ],
            batch_size=1000,
        )
        if segment.tag_id:
            member_tags.rule_tag_sync(tag_id=segment.tag_id, member_ids=wanted)
        Segment.objects.filter(pk=segment.pk).update(member_count=len(wanted), computed_at=now)
        if actor is not None:
            audit_record(
                actor=actor,
                action="segment.recompute",
                object_type="segment",
                object_id=segment.pk,
                after={"members": len(wanted), "entered": len(entered), "left": len(left)},
            )
    return Recompute(members=len(wanted), entered=len(entered), left=len(left))


def segments_recompute_job(*, now: datetime | None = None) -> dict[str, int]:
    """The periodic job: RFM once per RFM_RECOMPUTE_HOURS, then every segment not recomputed within
    SEGMENT_RECOMPUTE_MINUTES. Each segment is claimed by a conditional UPDATE of its computed_at, so
    workers running this at once never recompute the same segment twice."""
    now = now or timezone.now()
    done: dict[str, int] = {}
    # The snapshot table is small: its latest row says when RFM last ran.
    last_rfm = (
        LifecycleSnapshot.objects.order_by("-computed_at").values_list("computed_at", flat=True).first()
    )
    rfm_due = last_rfm is None or last_rfm <= now - timedelta(hours=settings.RFM_RECOMPUTE_HOURS)
    if rfm_due and Member.objects.exists():
        done["rfm_members"] = rfm_recompute(now=now).members
    stale = Q(computed_at__isnull=True) | Q(
        computed_at__lte=now - timedelta(minutes=settings.SEGMENT_RECOMPUTE_MINUTES)
    )
    for segment_id in Segment.objects.filter(stale).order_by("id").values_list("id", flat=True):
        claimed = Segment.objects.filter(stale, pk=segment_id).update(computed_at=now)
        if claimed:
            segment_recompute(segment_id=segment_id, now=now)
            done["segments"] = done.get("segments", 0) + 1
    return done


# --- Audience ---------------------------------------------------------------------------------


def segment_message_queue(
    *, actor: Actor, segment_id: int, subject: str, body: str, channels: list[str]
) -> int:
    """Queue a marketing message to the segment's members (as at its last recompute) who allow
    marketing now; returns how many members it was queued for. The renderer checks consent again
    when it goes out, so a withdrawal meanwhile stops it.

    Raises: segment.not_found, segment.no_channel, segment.message_empty."""
    if not channels:
        raise DomainError(SegmentError.NO_CHANNEL)
    if not subject.strip() or not body.strip():
        raise DomainError(SegmentError.MESSAGE_EMPTY)
    segment = segment_get(segment_id)
    member_ids = set(SegmentMember.objects.filter(segment=segment).values_list("member_id", flat=True))
    allowed = marketing_allowed(member_ids)
    now = timezone.now()
    ref = f"segment:{segment.pk}:{int(now.timestamp())}"
    with transaction.atomic():
        messages = []
        for member_id in sorted(allowed):
            context = {"segment_id": segment.pk, "member_id": member_id, "subject": subject, "body": body}
            messages += outbox_build(
                member_id=member_id, channels=channels, template=MARKETING_TEMPLATE, context=context, ref=ref
            )
        for start in range(0, len(messages), 1000):
            outbox_add(messages[start : start + 1000])
        audit_record(
            actor=actor,
            action="segment.message",
            object_type="segment",
            object_id=segment.pk,
            after={
                "subject": subject,
                "channels": channels,
                "members": len(allowed),
                "skipped": len(member_ids - allowed),
            },
        )
    return len(allowed)


def segment_messages_load(contexts: list[dict]):
    """The notify loader of segment.marketing. Consent is checked again at send time by notify itself
    (the template is registered for the marketing purpose, N3): a withdrawal after queueing skips it."""

    def render(template: str, context: dict, channel: str) -> tuple[str, str] | None:
        return context.get("subject", ""), context.get("body", "")

    return render
