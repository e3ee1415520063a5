"""GB/T 2260 region codes: validity and the province / city / district pattern match."""

from __future__ import annotations

import pytest

from yunying.members.regions import is_valid_region, province_of, region_label, region_matches


@pytest.mark.parametrize(
    ("code", "pattern", "matches"),
    [
        pytest.param("440305", "440000", True, id="district-in-province"),
        pytest.param("440300", "440000", True, id="city-in-province"),
        pytest.param("440000", "440000", True, id="province-itself"),
        pytest.param("110105", "440000", False, id="other-province"),
        pytest.param("440305", "440300", True, id="district-in-city"),
        pytest.param("440300", "440300", True, id="city-itself"),
        pytest.param("440106", "440300", False, id="other-city-same-province"),
        pytest.param("440000", "440300", False, id="province-not-in-city"),
        pytest.param("440305", "440305", True, id="district-itself"),
        pytest.param("440306", "440305", False, id="neighbour-district"),
        pytest.param("440300", "440305", False, id="city-not-in-district"),
        pytest.param("", "440000", False, id="no-code"),
    ],
)
def test_region_matches(code, pattern, matches):
    assert region_matches(code, pattern) is matches


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        pytest.param("440305", True, id="district"),
        pytest.param("440300", True, id="city"),
        pytest.param("440000", True, id="province"),
        pytest.param("820000", True, id="macao"),
        pytest.param("990000", False, id="unknown-province"),
        pytest.param("000000", False, id="zeros"),
        pytest.param("44030", False, id="five-digits"),
        pytest.param("4403050", False, id="seven-digits"),
        pytest.param("44030a", False, id="letter"),
        pytest.param("44０３００", False, id="full-width-digits"),
        pytest.param("44²³⁰⁰", False, id="superscript-digits"),
        pytest.param("", False, id="empty"),
    ],
)
def test_is_valid_region(code, valid):
    assert is_valid_region(code) is valid


@pytest.mark.parametrize(
    ("code", "province", "label"),
    [
        pytest.param("440305", "440000", "深圳市", id="district-of-listed-city"),
        pytest.param("440300", "440000", "深圳市", id="listed-city"),
        pytest.param("445100", "440000", "广东省", id="unlisted-city-falls-back-to-province"),
        pytest.param("110105", "110000", "北京市", id="municipality"),
    ],
)
def test_province_and_label(code, province, label):
    assert province_of(code) == province
    assert region_label(code) == label
