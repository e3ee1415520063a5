from tests.campaigns.helpers import sign_up
from tests.members.factories import mobile


def test_a_member_signs_up_and_takes_a_seat(open_campaign):
    # when
    signup = sign_up(open_campaign, mobile(1))
    # then
    open_campaign.refresh_from_db()
    assert signup.status == "confirmed"
    assert open_campaign.seats_taken == 1
