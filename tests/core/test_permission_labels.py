"""Every permission has a name people read (a 403 page showed the raw code "pii.reveal")."""

from django.utils import translation

from yunying.core.permissions import PERM_LABELS, Perm, perm_label


def test_every_permission_has_a_label_in_both_languages():
    assert set(PERM_LABELS) == set(Perm)
    for perm in Perm:
        with translation.override("zh-hans"):
            chinese = perm_label(perm)
        with translation.override("en"):
            english = perm_label(perm)
        assert chinese != english, f"{perm} has no Chinese label"
        assert "." not in english


def test_an_unknown_code_shows_as_itself():
    assert perm_label("no.such") == "no.such"
