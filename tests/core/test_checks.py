"""Production refuses unsafe settings (S6): each deployment check, and `yunying serve` stopping on them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from bench.harness import free_port
from yunying.core import checks

STRONG = {
    "SECRET_KEY": "Zq8v3nX0pL7rT2wY6bE1cH9mK4sD5fG0jA3uN8iO2yR7tQ1eW6zV",
    "PII_KEYS": "k2:7gqCwE9b0Yq8H0yq3kq2tq1M3qk3mJ5cJm8z3Zl9y0Q,k1:Vd0rHn8tI0cE1j2pQeV4o7mW5xY3bT9sA6fG1hK2lZ4",
    "BLIND_INDEX_KEY": "b7Rk2Xm9Qp4Lw8Nz3Vt6Yc1Hs5Jd0FgWe",
    "DEBUG": False,
}


@pytest.fixture
def strong(settings):
    for name, value in STRONG.items():
        setattr(settings, name, value)
    return settings


def _ids(errors) -> list[str]:
    return [e.id for e in errors]


def test_strong_settings_pass_every_check(strong):
    # when
    errors = [
        *checks.check_debug(),
        *checks.check_secret_key(),
        *checks.check_pii_keys(),
        *checks.check_blind_index_key(),
    ]
    # then
    assert errors == []


def test_debug_on_is_refused(strong):
    strong.DEBUG = True
    assert _ids(checks.check_debug()) == ["yunying.E001"]


@pytest.mark.parametrize(
    "key",
    [
        "short-key",
        "a" * 60,
        "abcde" * 10,
        "django-insecure-" + "x1y2z3w4v5" * 5,
        "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwx",  # attacker review: passed as 26 distinct
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrst",
    ],
    ids=["short", "one-character", "five-characters", "django-insecure", "alphabet", "alphabets"],
)
def test_a_weak_secret_key_is_refused(strong, key):
    strong.SECRET_KEY = key
    assert _ids(checks.check_secret_key()) == ["yunying.E002"]


@pytest.mark.parametrize(
    "ring",
    [
        "k1:dGVzdC1vbmx5LXBpaS1rZXktdHdv",  # 21 bytes
        "k2:7gqCwE9b0Yq8H0yq3kq2tq1M3qk3mJ5cJm8z3Zl9y0Q,k1:c2hvcnQ",  # an old key too short
        "not-a-ring",
        "k1:" + "A" * 43,  # 32 zero bytes: long enough, and no key at all
        "k1:" + STRONG["SECRET_KEY"],  # the secret key again
        "k2:7gqCwE9b0Yq8H0yq3kq2tq1M3qk3mJ5cJm8z3Zl9y0Q,k1:7gqCwE9b0Yq8H0yq3kq2tq1M3qk3mJ5cJm8z3Zl9y0Q",
        "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",  # bytes 0..31 (attacker review)
        "k1:" + "3q2-7w" * 8,  # one pattern of 4 bytes again and again
    ],
    ids=[
        "active-short",
        "old-short",
        "malformed",
        "zero-bytes",
        "secret-key-again",
        "same-key-twice",
        "counting-bytes",
        "repeated-pattern",
    ],
)
def test_pii_keys_under_32_bytes_are_refused(strong, ring):
    strong.PII_KEYS = ring
    assert _ids(checks.check_pii_keys()) == ["yunying.E003"]


@pytest.mark.parametrize(
    "key",
    ["test-only-blind-index-key", "ab" * 20, STRONG["SECRET_KEY"], "0123456789012345678901234567890123"],
    ids=["short", "few-characters", "same-as-secret-key", "digits-over-and-over"],
)
def test_a_weak_blind_index_key_is_refused(strong, key):
    strong.BLIND_INDEX_KEY = key
    assert _ids(checks.check_blind_index_key()) == ["yunying.E004"]


def test_keys_made_as_the_hints_say_are_never_called_predictable():
    """The pattern test must not refuse real keys: thousands made the documented way pass."""
    import secrets

    for _ in range(2000):
        assert not checks.predictable(secrets.token_urlsafe(50))
        assert not checks.predictable(secrets.token_bytes(32))


def test_the_checks_run_with_check_deploy(strong):
    # given
    strong.DEBUG = True
    # when / then: Django's `check --deploy` runs ours with its own
    with pytest.raises(SystemCheckError, match=r"yunying\.E001"):
        call_command("check", deploy=True, fail_level="ERROR")


def test_serve_in_production_stops_on_unsafe_settings(tmp_path):
    # given: production with DEBUG on and a short PII key
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "yunying.settings",
        "YUNYING_ENV": "production",
        "YUNYING_DEBUG": "1",
        "YUNYING_SECRET_KEY": STRONG["SECRET_KEY"],
        "YUNYING_PII_KEYS": "k1:c2hvcnQ",
        "YUNYING_BLIND_INDEX_KEY": STRONG["BLIND_INDEX_KEY"],
        "YUNYING_VAR_DIR": str(tmp_path),
    }
    env.pop("DATABASE_URL", None)
    yunying = Path(sys.executable).parent / "yunying"
    # when: (its own process group, so a server that does start is stopped with all its workers)
    process = subprocess.Popen(
        [str(yunying), "serve", "--port", str(free_port())],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail("yunying serve started with unsafe settings")
    result = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    # then: it stops before serving, naming both problems
    assert result.returncode != 0
    assert "yunying.E001" in result.stderr and "yunying.E003" in result.stderr
    assert "serving on" not in result.stdout


def test_production_refuses_to_load_the_wsgi_application_on_unsafe_settings(tmp_path):
    """Started without `yunying serve` (granian or gunicorn by hand), production still checks."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "yunying.settings",
        "YUNYING_ENV": "production",
        "YUNYING_DEBUG": "1",
        "YUNYING_SECRET_KEY": STRONG["SECRET_KEY"],
        "YUNYING_PII_KEYS": STRONG["PII_KEYS"],
        "YUNYING_BLIND_INDEX_KEY": STRONG["BLIND_INDEX_KEY"],
        "YUNYING_VAR_DIR": str(tmp_path),
    }
    env.pop("DATABASE_URL", None)
    loaded = subprocess.run(
        [sys.executable, "-c", "import yunying.wsgi"], env=env, capture_output=True, text=True, timeout=60
    )
    assert loaded.returncode != 0
    assert "refusing to serve" in loaded.stderr and "yunying.E001" in loaded.stderr
    # and with DEBUG off it loads
    env.pop("YUNYING_DEBUG")
    assert subprocess.run([sys.executable, "-c", "import yunying.wsgi"], env=env, timeout=60).returncode == 0


def test_production_warns_while_messages_only_go_to_files(strong):
    """Attacker review: SMS and e-mail went to var/ files by default in production too, keeping
    phones and sign-in codes there, and nobody said so."""
    strong.EMAIL_BACKEND = checks.FILE_EMAIL
    warned = checks.check_delivery_channels()
    assert _ids(warned) == ["yunying.W001"] and "email, push, sms" in warned[0].msg
    # a deployment that plugged its providers in hears nothing
    strong.NOTIFY_CHANNELS = {name: "myshop.sms.AliyunChannel" for name in ("sms", "push")} | {
        "email": "yunying.notify.channels.EmailChannel"
    }
    strong.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    assert checks.check_delivery_channels() == []
