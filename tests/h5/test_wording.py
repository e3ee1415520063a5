"""Every reason a member can be refused for has a wording addressed to them (h5.wording): a new
eligibility rule without one would speak about "the member" on the member's own phone."""

import pytest
from django.utils import translation

from yunying.campaigns.errors import EligibilityReason, SignupError
from yunying.h5.wording import TO_THE_MEMBER


@pytest.mark.parametrize("code", [*EligibilityReason, SignupError.DUPLICATE, SignupError.INELIGIBLE])
def test_each_refusal_reason_speaks_to_the_member(code):
    assert code in TO_THE_MEMBER
    with translation.override("zh-hans"):
        assert "会员不" not in str(TO_THE_MEMBER[code]) and "该会员" not in str(TO_THE_MEMBER[code])
