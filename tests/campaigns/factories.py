from datetime import timedelta

import factory
from django.utils import timezone

from yunying.campaigns.models import Campaign


class CampaignFactory(factory.django.DjangoModelFactory):
    """A campaign row as the services would leave it; pass status="published" for an open one."""

    class Meta:
        model = Campaign

    title = factory.Sequence(lambda n: f"测试活动 {n}")
    type = "promotion"
    rules_text = "每位会员限报名一次；名额有限，先到先得。"
    signup_start_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    signup_end_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
    event_start_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=2))
    event_end_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=2, hours=3))
    capacity = 10
    channels = factory.LazyFunction(lambda: ["h5", "app"])
    notify_channels = factory.LazyFunction(lambda: ["sms"])
    status = "draft"
