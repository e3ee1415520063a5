"""Risk control's one writer: judging an event (risk_assess), the rule versions, the lists, the review
queue, challenges and the risk register.

`risk_assess` is what every entry point calls before it acts. It never raises: when the engine
itself fails (a bug, a database error) the answer is REVIEW with the reason `engine_unavailable`, logged,
counted and alerted — a sign-up is never lost to risk control, and never waved through unseen.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from yunying.core.audit import audit_record
from yunying.core.errors import CoreError, DomainError, database_busy
from yunying.core.permissions import Actor
from yunying.core.rows import row_insert
from yunying.core.scrub import scrub_personal
from yunying.members.services import member_id_by_risk_ref
from yunying.notify.services import outbox_enqueue
from yunying.risk import counters, graph
from yunying.risk.defaults import BUILT_IN
from yunying.risk.errors import RiskError
from yunying.risk.models import (
    Case,
    CaseStatus,
    Challenge,
    Decision,
    ListEntry,
    ListKind,
    ListVerdict,
    RegisterItem,
    RuleState,
    RuleVersion,
)
from yunying.risk.outcomes import case_outcome
from yunying.risk.rules import Action, Reason, RuleSetError, judge, reason_label, ruleset_validate
from yunying.risk.signals import (
    GRAPH_KINDS,
    CarrierClass,
    Entry,
    RiskInput,
    carrier_class,
    input_keys,
    ip_class,
    ip_parse,
    keyed_hash,
    ua_kind,
)

logger = logging.getLogger("yunying.risk")

CHALLENGE_TTL = timedelta(minutes=15)
REGISTRATION_WINDOW = timedelta(days=30)  # how far back member.registration_score looks
RULE_STATE_LOCK = 7_262_617_001  # the advisory lock key rule state changes take on PostgreSQL
ENGINE_UNAVAILABLE = "engine_unavailable"


@dataclass(frozen=True)
class Verdict:
    """What the entry point acts on."""

    action: Action
    score: int
    reasons: list[dict[str, Any]] = field(default_factory=list)
    decision_id: int | None = None
    challenge: str = ""  # the token to pass, when action is CHALLENGE
    fallback: bool = False  # the engine failed: REVIEW so a person looks

    @property
    def refuses(self) -> bool:
        return self.action in (Action.BLOCK, Action.CHALLENGE)

    def error(self) -> DomainError:
        """The refusal to raise for BLOCK or CHALLENGE; member-facing reasons are labels only."""
        # In the caller's language: the API answers with them as they are (docs/api.md §21).
        labels = [gettext(reason_label(reason)) for reason in self.reasons]
        if self.action == Action.CHALLENGE:
            return DomainError(
                RiskError.CHALLENGE_REQUIRED,
                challenge=self.challenge,
                decision=self.decision_id,
                reasons=labels,
            )
        return DomainError(RiskError.BLOCKED, decision=self.decision_id, reasons=labels)


# ---------------------------------------------------------------- judging


# Rule sets by (id, number, state, created_at as stored): a version's rules never change once written, so each process
# reads a version's JSON once; which versions are live and shadow is read on every event (one indexed
# row or two), so a state change anywhere takes effect on the next event everywhere.
_rules_by_version: dict[tuple, dict] = {}


def _rulesets() -> tuple[tuple[int, dict], tuple[int, dict] | None]:
    """(number, rules) of the live version — the built-in set, number 0, when none is live — and of
    the shadow version, if one runs."""
    live: tuple[int, dict] = (0, BUILT_IN)
    shadow = None
    q = connection.ops.quote_name
    sql = f"""
        SELECT {q("id")}, {q("number")}, {q("state")}, {q("created_at")} FROM {q(RuleVersion._meta.db_table)}
        WHERE {q("state")} IN (%s, %s)
    """  # noqa: S608 (names are ours; values are parameters)
    with connection.cursor() as cursor:
        cursor.execute(sql, [RuleState.LIVE, RuleState.SHADOW])
        running = cursor.fetchall()
    for version in running:
        rules = _rules_by_version.get(version)
        if rules is None:
            if len(_rules_by_version) > 64:  # versions come and go over months; keep the cache small
                _rules_by_version.clear()
            rules = _rules_by_version[version] = RuleVersion.objects.get(pk=version[0]).rules
        if version[2] == RuleState.LIVE:
            live = (version[1], rules)
        else:
            shadow = (version[1], rules)
    return live, shadow


def _listed(data: RiskInput, keys: dict[str, str], at: datetime) -> tuple[str, str] | None:
    """(verdict, kind) of the list entry that decides this event, by the stated precedence:
    a block on the phone or identity; then an allow on the phone or identity (a vouched-for person
    wins over a device or address block); then a block on the device or IP; then an allow on them."""
    exact = [(kind, keys[kind].split(":", 1)[1]) for kind in ("phone", "identity", "device") if kind in keys]
    address = ip_parse(data.ip)
    if not exact and address is None:
        return None
    # Only the entries that can match: this event's hashes, and the IP ranges (a CIDR is matched here,
    # not in SQL); a list of a million blocked phones costs an indexed look-up, not a scan.
    found: list[tuple[str, str]] = []
    for kind, value, verdict in _list_candidates(exact, with_ranges=address is not None, at=at):
        if kind == ListKind.IP:
            try:
                if address is not None and address in ipaddress.ip_network(value, strict=False):
                    found.append((verdict, kind))
            except (ValueError, TypeError):
                continue
        elif (kind, value) in exact:
            found.append((verdict, kind))
    person = {ListKind.PHONE, ListKind.IDENTITY}
    for verdict, kinds in (
        (ListVerdict.BLOCK, person),
        (ListVerdict.ALLOW, person),
        (ListVerdict.BLOCK, {ListKind.DEVICE, ListKind.IP}),
        (ListVerdict.ALLOW, {ListKind.DEVICE, ListKind.IP}),
    ):
        for found_verdict, kind in found:
            if found_verdict == verdict and kind in kinds:
                return verdict, kind
    return None


def _list_candidates(
    exact: list[tuple[str, str]], *, with_ranges: bool, at: datetime
) -> list[tuple[str, str, str]]:
    """(kind, value, verdict) of the unexpired entries for these (kind, value) pairs, and of every IP
    entry when `with_ranges`; each term is a look-up on the (kind, value) index. Hand-written: it
    runs on every judged event."""
    q, adapt = connection.ops.quote_name, connection.ops.adapt_datetimefield_value
    kind, value = q("kind"), q("value")
    matches = [f"({kind} = %s AND {value} = %s)"] * len(exact) + ([f"{kind} = %s"] if with_ranges else [])
    if not matches:
        return []
    sql = f"""
        SELECT {kind}, {value}, {q("verdict")} FROM {q(ListEntry._meta.db_table)}
        WHERE ({" OR ".join(matches)}) AND ({q("expires_at")} IS NULL OR {q("expires_at")} > %s)
    """  # noqa: S608 (names are ours; values are parameters)
    params = [part for pair in exact for part in pair] + ([ListKind.IP] if with_ranges else []) + [adapt(at)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def signals_compute(data: RiskInput, *, at: datetime) -> tuple[dict[str, Any], dict[str, str]]:
    """Record the event in the counters and the graph, and return (signals, keys). In the caller's
    transaction."""
    keys = input_keys(data)
    velocity_keys = dict(keys)
    if data.member_ref:
        velocity_keys["member"] = f"member:{keyed_hash('member', data.member_ref)}"
    carrier = carrier_class(data.phone) if data.phone else None
    if carrier == CarrierClass.VIRTUAL and data.entry in (Entry.MEMBER_REGISTER, Entry.SMS_SEND):
        # One platform-wide key: an SMS farm registers its virtual numbers in waves, honest members
        # on virtual numbers one by one (their events are what `virtual.wave_factor` compares with).
        velocity_keys["virtual"] = "virtual:registrations"
    counts = counters.velocity_record_and_count(
        velocity_keys, entry=data.entry, member_ref=data.member_ref, campaign_ref=data.campaign_ref, at=at
    )
    facts = graph.graph_link(
        member_ref=data.member_ref,
        attribute_keys=[keys[kind] for kind in GRAPH_KINDS if kind in keys],
        invited_by=data.invited_by,
        at=at,
        order_fen=data.amount_fen if data.entry == "order.ingest" else None,
    )
    signals: dict[str, Any] = {
        # Plain text, as stored and replayed: an Entry member is not a str to the rules' type check
        # (a rule on `entry` never fired live).
        "entry": str(data.entry),
        "channel": data.channel,
        # The campaign key (not personal): early warning counts sign-ups per campaign and channel.
        "campaign": data.campaign_ref or None,
        "fill_ms": data.form_fill_ms,
        "ua_kind": ua_kind(data.user_agent),
        "ip_class": str(ip_class(data.ip)),
        "carrier_class": str(carrier) if carrier else None,
        "amount_fen": data.amount_fen,
        "graph.component_size": facts.component_size,
        "graph.small_first_orders": facts.small_first_orders,
        "graph.invite_cycle": facts.invite_cycle,
        "graph.invited": bool(data.invited_by),
        "member.age_s": int((at - facts.first_seen_at).total_seconds()) if facts.first_seen_at else 0,
    }
    for kind, values in counts.items():
        for name, value in values.items():
            signals[f"{kind}.{name}"] = value
    if "ip24" in counts and "ip" in counts and counts["ip24"]["accounts_1h"] > counts["ip"]["accounts_1h"]:
        # Accounts on other addresses of this one's block: a proxy pool rotating through a /24 shows
        # here, a campus NAT (every student on one address) does not.
        signals["ip24.other_accounts_1h"] = max(
            0, counts["ip24"]["accounts_1h"] - counts["ip"]["accounts_1h"]
        )
    if (
        "building" in counts
        and "address" in counts
        and counts["building"]["accounts_24h"] > counts["address"]["accounts_24h"]
    ):
        # Accounts at other doors of this building: a coupon farm varies the room number, a family
        # shares one door.
        signals["building.other_accounts_24h"] = max(
            0, counts["building"]["accounts_24h"] - counts["address"]["accounts_24h"]
        )
    if "virtual" in counts:
        # This hour's virtual-number registrations against the day's hourly average (24 = all in
        # this hour): a ratio, so a platform whose members often use virtual numbers is not a wave.
        hour, day = counts["virtual"]["events_1h"], counts["virtual"]["events_24h"]
        signals["virtual.wave_factor"] = round(24 * hour / max(day, 1), 1)
    if data.member_ref and data.entry != Entry.MEMBER_REGISTER:
        signals["member.registration_score"] = _registration_score(data.member_ref, at)
    return {name: value for name, value in signals.items() if value is not None}, keys


def _registration_score(member_ref: str, at: datetime) -> int:
    """The highest score of this member's live registration decisions in the last 30 days (0 if
    none): a registration that came in a wave of virtual numbers still counts when the account signs
    up hours later. Registrations only: the member's own challenged attempt at this entry point must
    not raise the score of its retry (it would never match the challenge it passed)."""
    q, adapt = connection.ops.quote_name, connection.ops.adapt_datetimefield_value
    sql = f"""
        SELECT MAX({q("score")}) FROM {q(Decision._meta.db_table)}
        WHERE {q("member_ref")} = %s AND {q("at")} >= %s AND {q("at")} < %s AND {q("shadow")} = %s
          AND {q("entry")} = %s
    """  # noqa: S608 (names are ours; values are parameters); one read on the (member_ref, at) index
    params = [member_ref[:64], adapt(at - REGISTRATION_WINDOW), adapt(at), False, Entry.MEMBER_REGISTER]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchone()[0]
    return int(found or 0)


def _challenge_passed(data: RiskInput, at: datetime) -> bool:
    """Use up a passed challenge of this member at this entry point (once)."""
    if not data.challenge:
        return False
    return bool(
        Challenge.objects.filter(
            token=data.challenge,
            entry=data.entry,
            member_ref=data.member_ref,
            passed_at__isnull=False,
            used_at__isnull=True,
            expires_at__gt=at,
        ).update(used_at=at)
    )


def _shadow_record(data: RiskInput, at: datetime, signals: dict[str, Any], shadow: tuple[int, dict]) -> None:
    """The shadow version's would-be decision, beside the live one. A shadow is never acted on, not
    even by failing: its error is logged and the live decision stands."""
    shadow_number, shadow_rules = shadow
    try:
        with transaction.atomic():
            would = judge(shadow_rules, signals, entry=data.entry)
            Decision.objects.create(
                entry=data.entry, subject_type=data.subject_type, subject_ref=data.subject_ref[:64],
                member_ref=data.member_ref[:64], at=at, score=would.score, action=would.action,
                reasons=[reason.as_dict() for reason in would.reasons], signals=signals,
                rule_version=shadow_number, shadow=True,
            )  # fmt: skip
    except Exception:
        logger.exception("shadow rules %s failed at %s; the live decision stands", shadow_number, data.entry)


def _challenge_pending(data: RiskInput, at: datetime) -> bool:
    """Whether this member was asked to pass a challenge at this entry point that is neither passed
    nor expired: until it is, a retry is challenged whatever else changed (the fill-time rules judge a
    first attempt only; a script can rename itself)."""
    if not data.member_ref:
        return False
    q = connection.ops.quote_name
    sql = f"""
        SELECT 1 FROM {q(Challenge._meta.db_table)}
        WHERE {q("member_ref")} = %s AND {q("entry")} = %s AND {q("passed_at")} IS NULL
          AND {q("used_at")} IS NULL AND {q("expires_at")} > %s
        LIMIT 1
    """  # noqa: S608 (names are ours; values are parameters); on every allowed event, hence by hand
    with connection.cursor() as cursor:
        cursor.execute(sql, [data.member_ref[:64], data.entry, connection.ops.adapt_datetimefield_value(at)])
        return cursor.fetchone() is not None


def _decide(data: RiskInput, at: datetime, rules: tuple[int, dict] | None) -> Verdict:
    with transaction.atomic():
        signals, keys = signals_compute(data, at=at)
        (live_number, live_rules), shadow = (rules, None) if rules is not None else _rulesets()
        judgement = judge(live_rules, signals, entry=data.entry)
        action, reasons = judgement.action, [reason.as_dict() for reason in judgement.reasons]
        listed = _listed(data, keys, at)
        if listed:
            verdict, kind = listed
            action = Action.BLOCK if verdict == ListVerdict.BLOCK else Action.ALLOW
            label = (
                gettext_noop("On the block list")
                if action == Action.BLOCK
                else gettext_noop("On the allow list")
            )
            reasons.insert(0, Reason(f"list.{verdict}", label, 0, {"list": kind}).as_dict())
        elif action == Action.CHALLENGE or (action == Action.ALLOW and _challenge_pending(data, at)):
            if _challenge_passed(data, at):
                action = Action.ALLOW
                reasons.append(
                    Reason("challenge.passed", gettext_noop("Passed the extra verification"), 0, {}).as_dict()
                )
            elif action == Action.ALLOW:  # a retry that changed its signals is still the challenged attempt
                action = Action.CHALLENGE
                label = gettext_noop("An extra verification asked for was not completed")
                reasons.append(Reason("challenge.pending", label, 0, {}).as_dict())
        if action == Action.CHALLENGE and data.entry == Entry.ORDER_INGEST:
            # An order is a fact, judged after it happened: nobody could answer a challenge (its token
            # went nowhere). A person looks instead.
            action = Action.REVIEW
        decision = row_insert(
            Decision(
                entry=data.entry,
                subject_type=data.subject_type,
                subject_ref=data.subject_ref[:64],
                member_ref=data.member_ref[:64],
                at=at,
                score=judgement.score,
                action=action,
                reasons=reasons,
                signals=signals,
                rule_version=live_number,
            )
        )
        if shadow is not None:
            _shadow_record(data, at, signals, shadow)
        token = ""
        if (
            action == Action.REVIEW and data.entry != Entry.SMS_SEND
        ):  # a code is sent or not: nothing to decide later
            row_insert(Case(decision=decision))
        elif action == Action.CHALLENGE:
            token = secrets.token_urlsafe(18)
            row_insert(
                Challenge(
                    token=token, decision=decision, entry=data.entry, member_ref=data.member_ref[:64],
                    expires_at=at + CHALLENGE_TTL,
                )
            )  # fmt: skip
    return Verdict(action, judgement.score, reasons, decision.pk, token)


def risk_assess(data: RiskInput, *, rules: tuple[int, dict] | None = None) -> Verdict:
    """Judge one event with the live rules (and the shadow rules, recorded and never acted on), or
    with `rules` ((number, rule set): a backtest). Never raises: a failure of the engine answers
    REVIEW, visibly (log, metric, alert)."""
    at = data.at or timezone.now()
    try:
        verdict = _decide(data, at, rules)
    except Exception as exc:  # the engine must never lose the event it judges
        busy = database_busy(exc) or "database is locked" in str(exc)  # SQLite's BEGIN raises it unwrapped
        if busy or (isinstance(exc, DomainError) and exc.code == CoreError.BUSY):
            # A busy database would refuse the entry point's own write too: the caller's one bounded
            # wait answers 503 core.busy (retry), instead of waiting a second time after ours.
            raise DomainError(CoreError.BUSY) from exc
        return _fallback(data, exc)
    if rules is None and not settings.RISK_ENFORCE and verdict.action != Action.ALLOW:
        # Observe mode: recorded as judged (the decision row keeps its action), acted on as allow.
        return Verdict(Action.ALLOW, verdict.score, verdict.reasons, verdict.decision_id)
    return verdict


def _fallback(data: RiskInput, exc: Exception) -> Verdict:
    """The engine failed: REVIEW, logged, counted, alerted."""
    logger.exception("risk engine failed at %s; falling back to review", data.entry)
    try:
        # Imported here: core.alerts brings the metrics, which `serve` sets up after the apps load.
        from yunying.core.alerts import alert_raise

        alert_raise("risk.engine_unavailable", entry=data.entry, error=type(exc).__name__)
    except Exception:
        logger.exception("risk engine failure could not be recorded as an alert")
    reason = {"rule": ENGINE_UNAVAILABLE, "label": gettext_noop("Risk control was unavailable; a person will look"), "points": 0, "signals": {}}  # fmt: skip
    return Verdict(Action.REVIEW, 0, [reason], None, "", fallback=True)


def challenge_pass(*, token: str, actor: Actor) -> Challenge:
    """The caller verified the person (an SMS code, a slider): the next attempt with `token` passes.

    Raises: risk.challenge_invalid."""
    now = timezone.now()
    with transaction.atomic():
        passed = Challenge.objects.filter(token=token, passed_at__isnull=True, expires_at__gt=now).update(
            passed_at=now
        )
        if not passed:
            raise DomainError(RiskError.CHALLENGE_INVALID)
        challenge = Challenge.objects.get(token=token)
        audit_record(actor=actor, action="risk.challenge_pass", object_type="risk_decision", object_id=challenge.decision_id, before={}, after={"passed": True})  # fmt: skip
    return challenge


# ---------------------------------------------------------------- rule versions


def rule_version_create(*, rules: Any, reason: str, based_on: int | None, actor: Actor) -> RuleVersion:
    """Save a new draft version. `based_on` is the live version the author started from: if another
    went live since, the author is told (their edit may undo it).

    Raises: risk.rules_invalid, risk.rules_stale."""
    try:
        ruleset_validate(rules)
    except RuleSetError as exc:
        raise DomainError(RiskError.RULES_INVALID, problem=str(exc)) from exc
    reason = reason.strip()
    if not reason:
        raise DomainError(RiskError.RULES_INVALID, problem=gettext("State the reason."))
    with transaction.atomic():
        live = RuleVersion.objects.filter(state=RuleState.LIVE).values_list("number", flat=True).first() or 0
        if based_on is not None and based_on != live:
            raise DomainError(RiskError.RULES_STALE, live=live)
        last = RuleVersion.objects.order_by("-number").values_list("number", flat=True).first() or 0
        version = RuleVersion.objects.create(
            number=last + 1, rules=rules, author=actor.label[:150], reason=reason[:500], based_on=based_on
        )
        audit_record(actor=actor, action="risk.rules_create", object_type="risk_rules", object_id=version.number, before={}, after={"reason": reason, "based_on": based_on})  # fmt: skip
    return version


def rule_version_set_state(*, number: int, state: str, actor: Actor) -> RuleVersion:
    """Put a version live (the live one retires), into shadow (beside the live one; a previous shadow
    goes back to draft), back to draft, or retire it.

    Raises: risk.rules_invalid (unknown version or state)."""
    if state not in RuleState.values:
        raise DomainError(RiskError.RULES_INVALID, problem=f"unknown state {state}")
    now = timezone.now()
    with transaction.atomic():
        # State changes one at a time: two versions put live at once each saw the slot as theirs (none
        # live yet, or each retiring the old one) and the second failed on the one-live constraint.
        # SQLite's one writer serialises them already; PostgreSQL takes a transaction-scoped lock.
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [RULE_STATE_LOCK])
        version = RuleVersion.objects.select_for_update().filter(number=number).first()
        if version is None:
            raise DomainError(RiskError.RULES_INVALID, problem=f"no version {number}")
        before = version.state
        if state in (RuleState.LIVE, RuleState.SHADOW):
            displaced = RuleState.RETIRED if state == RuleState.LIVE else RuleState.DRAFT
            RuleVersion.objects.filter(state=state).exclude(pk=version.pk).update(
                state=displaced, state_changed_at=now
            )
        RuleVersion.objects.filter(pk=version.pk).update(state=state, state_changed_at=now)
        version.state = state
        audit_record(actor=actor, action="risk.rules_state", object_type="risk_rules", object_id=number, before={"state": before}, after={"state": state})  # fmt: skip
    return version


# ---------------------------------------------------------------- lists


def _note(text: str, limit: int) -> str:
    """A person's free text as stored: trimmed, bounded, without NUL (PostgreSQL refuses it in text),
    and without phones, e-mails or identity numbers: a member writes theirs into a note to the
    reviewers, an operator quotes one in a decision or a list entry, and every reviewer (support
    included) reads them without a reveal (S1)."""
    return scrub_personal(text.replace("\x00", "").strip())[:limit]


def _member_note(text: str) -> str:
    return _note(text, 500)


def list_entry_add(
    *, kind: str, value: str, verdict: str, note: str, actor: Actor, expires_at: datetime | None = None
) -> ListEntry:
    """Add a phone, device, identity number (stored as its keyed hash and a masked hint) or an IP
    address or range (stored as a network) to the allow or block list; an existing entry for the same
    value is replaced.

    Raises: risk.list_entry_invalid."""
    from yunying.core.masking import mask_phone
    from yunying.risk.signals import device_usable, identity_normalise, phone_digits

    value, note = value.replace("\x00", "").strip(), _note(note, 500)
    if kind not in ListKind.values or verdict not in ListVerdict.values:
        raise DomainError(RiskError.LIST_ENTRY_INVALID, problem="kind or list")
    if not note:
        raise DomainError(RiskError.LIST_ENTRY_INVALID, problem="a note saying why is required")
    if kind == ListKind.PHONE:
        digits = phone_digits(value)
        if not digits:
            raise DomainError(RiskError.LIST_ENTRY_INVALID, problem="not a mainland mobile number")
        stored, hint = keyed_hash("phone", digits), mask_phone(digits)
    elif kind == ListKind.IDENTITY:
        normalised = identity_normalise(value)
        if not 15 <= len(normalised) <= 18 or not normalised[:-1].isdigit():
            raise DomainError(RiskError.LIST_ENTRY_INVALID, problem="not an identity number")
        stored, hint = keyed_hash("identity", normalised), f"{normalised[:3]}***{normalised[-2:]}"
    elif kind == ListKind.DEVICE:
        if not device_usable(value) or len(value) > 128:
            raise DomainError(RiskError.LIST_ENTRY_INVALID, problem="not a usable device id")
        stored, hint = keyed_hash("device", value), f"{value[:4]}…"
    else:
        try:
            if "%" in value:  # a scoped IPv6 address (fe80::1%eth0) names a link, not a client
                raise ValueError(value)
            network = ipaddress.ip_network(value, strict=False)
        except ValueError as exc:
            raise DomainError(RiskError.LIST_ENTRY_INVALID, problem="not an IP address or range") from exc
        mapped = network.network_address.ipv4_mapped if network.version == 6 else None
        if mapped is not None and network.prefixlen >= 96:
            # ::ffff:1.2.3.4 is how some servers write an IPv4 client; events are judged by the IPv4
            # address (signals.ip_parse), so the entry is stored as one or it would never match.
            network = ipaddress.ip_network((mapped, network.prefixlen - 96))
        # By prefix, not by count: an IPv6 home gets a /64, so counting addresses refused every IPv6 range.
        if network.prefixlen < (8 if network.version == 4 else 32):
            raise DomainError(
                RiskError.LIST_ENTRY_INVALID, problem="a range wider than /8 (IPv4) or /32 (IPv6)"
            )
        stored = hint = str(network)
    with transaction.atomic():
        # One entry per value: a second add replaces the first. update_or_create, not delete + create:
        # two adds of one value at once both created, and one failed on the unique key (a 500).
        entry, _created = ListEntry.objects.update_or_create(
            kind=kind, value=stored,
            defaults={"verdict": verdict, "hint": hint, "note": _note(note, 500), "created_by": actor.label[:150], "expires_at": expires_at},
        )  # fmt: skip
        audit_record(actor=actor, action="risk.list_add", object_type="risk_list", object_id=entry.pk, before={}, after={"kind": kind, "verdict": verdict, "hint": hint, "note": _note(note, 500)})  # fmt: skip
    return entry


def list_entry_remove(*, entry_id: int, actor: Actor) -> None:
    """Raises: risk.list_entry_not_found."""
    with transaction.atomic():
        entry = ListEntry.objects.select_for_update().filter(pk=entry_id).first()
        if entry is None:
            raise DomainError(RiskError.LIST_ENTRY_NOT_FOUND)
        entry.delete()
        audit_record(actor=actor, action="risk.list_remove", object_type="risk_list", object_id=entry_id, before={"kind": entry.kind, "verdict": entry.verdict, "hint": entry.hint}, after={})  # fmt: skip


# ---------------------------------------------------------------- review queue


# The case case_decide is deciding while its subject's owner acts (the owner's own path closes the
# subject's other open cases through case_close_for; this one is closed by case_decide itself).
_case_deciding: ContextVar[int | None] = ContextVar("risk_case_deciding", default=None)


def case_decide(*, case_id: int, approve: bool, note: str, actor: Actor) -> Case:
    """Approve or reject a case; the decision gets its label (approve = honest, reject = fraud) for
    the backtests, and the subject's owner acts on it in the same transaction.

    Raises: risk.case_not_found, risk.case_decided, and whatever the subject's owner refuses with."""
    now = timezone.now()
    with transaction.atomic():
        case = Case.objects.select_related("decision").filter(pk=case_id).first()
        if case is None:
            raise DomainError(RiskError.CASE_NOT_FOUND)
        if case.status != CaseStatus.OPEN:
            raise DomainError(RiskError.CASE_DECIDED)
        decision = case.decision
        handler = case_outcome(decision.subject_type)
        # The subject's owner locks its rows before the case row is written: the order its own pages
        # take (confirming a sign-up closes its case), so a decision here and a confirmation there at
        # the same instant queue on PostgreSQL instead of deadlocking.
        deciding = _case_deciding.set(case_id)
        try:
            outcome = handler(decision, approve, actor) if handler else ""
        except DomainError:
            if Case.objects.filter(pk=case_id).exclude(status=CaseStatus.OPEN).exists():
                raise DomainError(RiskError.CASE_DECIDED) from None  # decided there while we waited
            raise
        finally:
            _case_deciding.reset(deciding)
        status = CaseStatus.APPROVED if approve else CaseStatus.REJECTED
        moved = Case.objects.filter(pk=case_id, status=CaseStatus.OPEN).update(
            status=status, note=_note(note, 1000), decided_by=actor.label[:150], decided_at=now
        )
        if not moved:  # another operator decided it first: the subject's change rolls back with this
            raise DomainError(RiskError.CASE_DECIDED)
        Decision.objects.filter(pk=decision.pk).update(label="honest" if approve else "fraud")
        if outcome:
            Case.objects.filter(pk=case_id).update(outcome=outcome[:200])
        audit_record(actor=actor, action="risk.case_decide", object_type="risk_case", object_id=case_id, before={"status": CaseStatus.OPEN}, after={"status": status, "note": _note(note, 1000), "outcome": outcome[:200]})  # fmt: skip
        case.refresh_from_db()
        if case.asked_by_member:
            _review_answer_send(case)
    return case


REVIEW_DECIDED_TEMPLATE = "risk.review_decided"


def _review_answer_send(case: Case) -> None:
    """Tell the member who asked for a human review what it found (PIPL Art. 24), in the decision's
    transaction; a member known only by an external id is told by the storefront (the API's case)."""
    member_id = member_id_by_risk_ref(case.decision.member_ref)
    if member_id is None:
        return
    outbox_enqueue(
        member_id=member_id, channels=["sms"], template=REVIEW_DECIDED_TEMPLATE,
        context={"case_id": case.pk}, ref=f"risk.case:{case.pk}", dedupe="decided",
    )  # fmt: skip


def review_answers_load(contexts: list[dict]):
    """The message a member gets when their review request is decided (notify.templates loader)."""
    cases = Case.objects.in_bulk([context.get("case_id") for context in contexts])

    def render(template: str, context: dict, channel: str):
        case = cases.get(context.get("case_id"))
        if case is None or case.status == CaseStatus.OPEN:
            return None
        if case.status == CaseStatus.APPROVED:
            body = gettext(
                "A person looked at the automated decision you asked about and overturned it. You can try again now."
            )
        else:
            body = gettext(
                "A person looked at the automated decision you asked about and confirmed it. Customer service can tell you more."
            )
        return gettext("Your review request"), body

    return render


def cases_decide(*, case_ids: list[int], approve: bool, note: str, actor: Actor) -> dict[str, int]:
    """Bulk approve or reject: each case in its own transaction; ones decided meanwhile are skipped, and
    so is one whose transaction lost a lock race (a deadlock with someone deciding its subject on its
    own page): it stays open, the rest are decided."""
    done = skipped = 0
    for case_id in case_ids[:500]:
        try:
            case_decide(case_id=case_id, approve=approve, note=note, actor=actor)
            done += 1
        except DomainError:
            skipped += 1
        except DatabaseError:
            logger.warning("risk case %s not decided in bulk: its transaction lost a lock race", case_id)
            skipped += 1
    return {"decided": done, "skipped": skipped}


def case_ask(*, decision_id: int, member_ref: str, note: str) -> Case:
    """The member asks a person to look at an automated decision about them (PIPL Art. 24).

    Raises: risk.decision_not_found (also for someone else's decision), risk.review_already_asked."""
    decision = Decision.objects.filter(pk=decision_id, member_ref=member_ref, shadow=False).first()
    if decision is None or not member_ref:
        raise DomainError(RiskError.DECISION_NOT_FOUND)
    try:
        with transaction.atomic():
            case, created = Case.objects.get_or_create(
                decision=decision, defaults={"asked_by_member": True, "member_note": _member_note(note)}
            )
            if not created:
                if case.asked_by_member or case.status == CaseStatus.OPEN:
                    raise DomainError(RiskError.REVIEW_ALREADY_ASKED)
                Case.objects.filter(pk=case.pk).update(asked_by_member=True, member_note=_member_note(note))
    except IntegrityError as exc:
        raise DomainError(RiskError.REVIEW_ALREADY_ASKED) from exc
    return case


def case_close_for(*, subject_type: str, subject_ref: str, approve: bool, actor: Actor) -> int:
    """The subject was decided elsewhere (an operator confirmed the pending sign-up from the campaign's
    page): close its open case with the same word, so the queue holds only what still waits."""
    now = timezone.now()
    cases = Case.objects.filter(
        status=CaseStatus.OPEN, decision__subject_type=subject_type, decision__subject_ref=subject_ref
    ).exclude(pk=_case_deciding.get())  # the case whose decision is acting on the subject right now
    ids = list(cases.values_list("pk", flat=True))
    if not ids:
        return 0
    status = CaseStatus.APPROVED if approve else CaseStatus.REJECTED
    Case.objects.filter(pk__in=ids, status=CaseStatus.OPEN).update(
        status=status,
        decided_by=actor.label[:150],
        decided_at=now,
        outcome="decided on the subject's own page",
    )
    Decision.objects.filter(case__pk__in=ids).update(label="honest" if approve else "fraud")
    return len(ids)


# ---------------------------------------------------------------- register


REGISTER_FIELDS = (
    "title",
    "description",
    "probability",
    "impact",
    "owner",
    "response_plan",
    "status",
    "review_on",
)


def register_save(*, item_id: int | None, values: dict[str, Any], actor: Actor) -> RegisterItem:
    """Create or update a risk in the register (values already validated by the form).

    Raises: risk.register_not_found."""
    with transaction.atomic():
        if item_id is None:
            item = RegisterItem(updated_by=actor.label[:150])
            before: dict[str, Any] = {}
        else:
            item = RegisterItem.objects.select_for_update().filter(pk=item_id).first()
            if item is None:
                raise DomainError(RiskError.REGISTER_NOT_FOUND)
            before = {name: str(getattr(item, name)) for name in REGISTER_FIELDS}
        for name in REGISTER_FIELDS:
            if name in values:
                setattr(item, name, values[name])
        item.updated_by = actor.label[:150]
        item.save()
        after = {name: str(getattr(item, name)) for name in REGISTER_FIELDS}
        audit_record(actor=actor, action="risk.register_save", object_type="risk_register", object_id=item.pk, before=before, after=after)  # fmt: skip
    return item
