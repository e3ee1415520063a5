"""Sign-in codes (M1): hashed at rest, 5 minutes, 5 tries, send limits per phone and per address,
the day's budget with its alert."""

from __future__ import annotations

import logging
import time as real_time
from datetime import timedelta
from types import SimpleNamespace
from unittest import mock

import pytest
from django.utils import timezone as django_timezone

from yunying.core import ratelimit
from yunying.core.errors import DomainError
from yunying.core.models import Alert
from yunying.members import signin
from yunying.members.models import Member, SigninCode
from yunying.members.signin import member_signin, signin_code_send, signin_code_verify

pytestmark = pytest.mark.django_db

PHONE = "13800138000"
E164 = "+8613800138000"


class Outbox:
    """Stands in for the SMS channel: keeps what would have been sent."""

    def __init__(self):
        self.sent: list[tuple[str, str]] = []

    def __call__(self, e164: str, code: str) -> None:
        self.sent.append((e164, code))

    @property
    def code(self) -> str:
        return self.sent[-1][1]


class Clock:
    """The rate limits' clock (core.ratelimit reads time.time), moved by hand."""

    def __init__(self, start: float):
        self.now = start

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return real_time.monotonic()

    def sleep(self, seconds: float) -> None:
        real_time.sleep(seconds)


@pytest.fixture
def clock():
    # Start just after midnight UTC, so the day's, hour's and minute's windows begin together.
    start = (int(real_time.time()) // 86400) * 86400 + 86400 * 3 + 1
    fake = Clock(start)
    with mock.patch.object(ratelimit, "time", fake):
        yield fake


@pytest.fixture
def outbox():
    return Outbox()


def send(outbox, phone=PHONE, ip="203.0.113.9"):
    return signin_code_send(phone=phone, client_ip=ip, deliver=outbox)


def test_a_code_is_six_digits_and_stored_only_as_a_keyed_hash(outbox, clock, caplog, settings):
    # given
    settings.SIGNIN_CODE_LOG = False  # as in production
    caplog.set_level(logging.DEBUG)
    # when
    expires = send(outbox)
    # then
    e164, code = outbox.sent[0]
    assert e164 == E164 and len(code) == 6 and code.isdigit()
    row = SigninCode.objects.get()
    stored = " ".join(str(v) for v in SigninCode.objects.values_list().get())
    assert code not in stored and "13800138000" not in stored
    assert row.code_hash != code and len(row.code_hash) == 40
    assert expires - row.created_at == timedelta(minutes=5)
    assert code not in caplog.text and "13800138000" not in caplog.text


def test_development_logs_the_code_masked_phone(outbox, clock, caplog, settings):
    settings.SIGNIN_CODE_LOG = True
    caplog.set_level(logging.INFO, logger="yunying.members.signin")
    send(outbox)
    assert outbox.code in caplog.text
    assert "138****8000" in caplog.text and "13800138000" not in caplog.text


def test_the_right_code_signs_in_once_and_creates_the_member(outbox, clock):
    send(outbox)
    member = member_signin(phone=PHONE, code=outbox.code)
    assert Member.objects.get() == member and member.source_channel == "h5"
    with pytest.raises(DomainError) as again:
        signin_code_verify(phone=PHONE, code=outbox.code)
    assert again.value.code == "signin.no_code"


def test_full_width_digits_in_phone_and_code_are_read_as_digits(outbox, clock):
    send(outbox, phone="１３８ ００１３ ８０００")
    full_width = outbox.code.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert signin_code_verify(phone="+86 138-0013-8000", code=full_width) == E164


def test_a_code_expires_after_five_minutes(outbox, clock):
    send(outbox)
    later = django_timezone.now() + timedelta(minutes=5, seconds=1)
    stub = SimpleNamespace(now=lambda: later, localtime=django_timezone.localtime)
    with mock.patch.object(signin, "timezone", stub), pytest.raises(DomainError) as refused:
        signin_code_verify(phone=PHONE, code=outbox.code)
    assert refused.value.code == "signin.code_expired"


def test_five_wrong_tries_end_the_code(outbox, clock):
    send(outbox)
    wrong = f"{(int(outbox.code) + 1) % 1_000_000:06d}"
    left = []
    for _ in range(4):
        with pytest.raises(DomainError) as refused:
            signin_code_verify(phone=PHONE, code=wrong)
        assert refused.value.code == "signin.code_wrong"
        left.append(refused.value.data["attempts_left"])
    assert left == [4, 3, 2, 1]
    with pytest.raises(DomainError) as fifth:
        signin_code_verify(phone=PHONE, code=wrong)
    assert fifth.value.code == "signin.too_many_attempts"
    with pytest.raises(DomainError) as right_too_late:
        signin_code_verify(phone=PHONE, code=outbox.code)
    assert right_too_late.value.code == "signin.too_many_attempts"
    assert SigninCode.objects.get().attempts == 5


def test_a_malformed_code_uses_no_try(outbox, clock):
    send(outbox)
    for junk in ("", "abc", "1" * 500, "12345"):
        with pytest.raises(DomainError) as refused:
            signin_code_verify(phone=PHONE, code=junk)
        assert refused.value.code == "signin.code_wrong"
    assert SigninCode.objects.get().attempts == 0


def test_a_new_code_replaces_the_old_one(outbox, clock):
    send(outbox)
    first = outbox.code
    clock.now += 61
    send(outbox)
    if first != outbox.code:
        with pytest.raises(DomainError):
            signin_code_verify(phone=PHONE, code=first)
    assert signin_code_verify(phone=PHONE, code=outbox.code) == E164


def test_no_code_sent(db):
    with pytest.raises(DomainError) as refused:
        signin_code_verify(phone=PHONE, code="123456")
    assert refused.value.code == "signin.no_code"


def _refused(outbox, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as refused:
        send(outbox, **kwargs)
    return refused.value


def test_one_send_a_minute_per_phone(outbox, clock):
    send(outbox)
    refusal = _refused(outbox)
    assert refusal.code == "core.rate_limited" and 1 <= refusal.data["retry_after"] <= 60
    clock.now += 60
    send(outbox)
    assert len(outbox.sent) == 2


def test_five_sends_an_hour_per_phone(outbox, clock):
    for _ in range(5):
        send(outbox)
        clock.now += 60
    assert _refused(outbox).code == "core.rate_limited"
    clock.now += 3600
    send(outbox)
    assert len(outbox.sent) == 6


def test_ten_sends_a_day_per_phone(outbox, clock):
    for _hour in range(2):
        for _ in range(5):
            send(outbox)
            clock.now += 60
        clock.now += 3600
    assert len(outbox.sent) == 10
    assert _refused(outbox).code == "core.rate_limited"
    clock.now += 86400
    send(outbox)
    assert len(outbox.sent) == 11


def test_other_phones_are_not_limited_by_one(outbox, clock):
    send(outbox)
    send(outbox, phone="13900139000")
    assert len(outbox.sent) == 2


def test_sends_per_client_address(outbox, clock, settings):
    settings.SIGNIN_SENDS_PER_IP_HOUR = 3
    for n in range(3):
        send(outbox, phone=f"1390013900{n}")
    assert _refused(outbox, phone="13900139009").code == "core.rate_limited"
    send(outbox, phone="13900139009", ip="198.51.100.7")  # another address is not limited by it


def test_counters_hold_no_phone_or_address_in_clear(outbox, clock):
    import sqlite3

    from django.conf import settings

    send(outbox)
    if settings.REDIS_URL:
        pytest.skip("the file store is checked here")
    keys = " ".join(k for (k,) in sqlite3.connect(settings.RATELIMIT_PATH).execute("SELECT key FROM counter"))
    assert "signin_phone_60" in keys
    assert "13800138000" not in keys and "203.0.113.9" not in keys


def test_daily_budget_alerts_when_reached_and_refuses_past_it(outbox, clock, settings):
    # given
    settings.SMS_DAILY_BUDGET = 2
    # when
    send(outbox, phone="13900139001")
    assert not Alert.objects.filter(code="sms.daily_budget_reached").exists()
    send(outbox, phone="13900139002")
    # then
    alert = Alert.objects.get(code="sms.daily_budget_reached")
    assert alert.data["budget"] == 2
    refusal = _refused(outbox, phone="13900139003")
    assert refusal.code == "signin.budget_exhausted"
    assert len(outbox.sent) == 2 and Alert.objects.filter(code="sms.daily_budget_reached").count() == 1


def test_a_failed_delivery_leaves_no_usable_code(clock):
    def broken(e164, code):
        raise OSError("provider down")

    with pytest.raises(DomainError) as refused:
        signin_code_send(phone=PHONE, client_ip=None, deliver=broken)
    assert refused.value.code == "signin.send_failed"
    with pytest.raises(DomainError) as verify:
        signin_code_verify(phone=PHONE, code="000000")
    assert verify.value.code == "signin.no_code"


def test_a_failed_delivery_does_not_use_up_the_send_windows(clock, outbox):
    def broken(e164, code):
        raise OSError("provider down")

    with pytest.raises(DomainError):
        signin_code_send(phone=PHONE, client_ip="203.0.113.9", deliver=broken)
    # when: the member taps "send" again at once
    send(outbox)
    # then: the code goes out, and the minute's window is used by this one
    assert len(outbox.sent) == 1
    assert _refused(outbox).code == "core.rate_limited"


@pytest.mark.parametrize(
    ("phone", "code"),
    [
        ("12345", "member.phone_invalid"),
        ("01088886666", "member.phone_not_mobile"),
        ("x" * 5000, "member.phone_invalid"),
    ],
    ids=["too-short", "landline", "huge"],
)
def test_bad_phones_are_refused_by_code(outbox, clock, phone, code):
    assert _refused(outbox, phone=phone).code == code
    assert outbox.sent == []


def test_sends_at_the_same_instant_deliver_one_code_a_minute(transactional_db):
    """Every send passes the read-only checks before any counts; the counted hit decides (race)."""
    import threading

    from django.db import connection

    from yunying.core.errors import DomainError
    from yunying.members.signin import signin_code_send

    delivered, refused = [], []
    barrier = threading.Barrier(6)

    def send():
        barrier.wait()
        try:
            signin_code_send(
                phone="13700139999", client_ip=None, deliver=lambda e164, code: delivered.append(code)
            )
        except DomainError as error:
            refused.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(delivered) == 1
    assert refused == ["core.rate_limited"] * 5
