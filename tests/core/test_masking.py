"""Masked renderings of personal data (S1)."""

from __future__ import annotations

import pytest

from yunying.core.masking import mask_name, mask_phone, mask_text


@pytest.mark.parametrize(
    ("digits", "masked"),
    [
        pytest.param("13800001234", "138****1234", id="mainland-mobile"),
        pytest.param("8613800001234", "861****1234", id="longer-than-11"),
        pytest.param("1012345678", "101*****78", id="ten-digits"),
        pytest.param("123456", "123*56", id="six-digits"),
        pytest.param("12345", "*****", id="five-digits-all-hidden"),
        pytest.param("123", "***", id="three-digits"),
        pytest.param("", "", id="empty"),
    ],
)
def test_mask_phone(digits, masked):
    assert mask_phone(digits) == masked


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        pytest.param("张三", "张*", id="two-characters"),
        pytest.param("欧阳娜娜", "欧***", id="four-characters"),
        pytest.param("张", "*", id="one-character-hidden"),
        pytest.param("Li Lei", "L*****", id="latin"),
        pytest.param("", "", id="empty"),
    ],
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        pytest.param("广东省深圳市南山区科技园", "广东****", id="long-address"),
        pytest.param("曾路52号翡翠湾3栋", "曾路****", id="street-and-number"),
        pytest.param("13800138000 请回电", "******", id="phone-first"),
        pytest.param("科技园南", "****", id="four-characters"),
        pytest.param("南山", "**", id="short"),
        pytest.param("", "", id="empty"),
    ],
)
def test_mask_text(text, masked):
    assert mask_text(text) == masked
