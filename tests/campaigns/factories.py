from datetime import timedelta

import factory
from django.utils import timezone

from yunying.campaigns.models import Campaign
from yunying.campaigns.services.lottery_seed import lottery_commit


class CampaignFactory(factory.django.DjangoModelFactory):
    """A campaign row as the services would leave it; pass status="published" for an open one."""

    class Meta:
        model = Campaign
        skip_postgeneration_save = True  # the hook writes through the service, then re-reads

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

    @factory.post_generation
    def seed_commitment(obj, create, extracted, **kwargs):
        """A lottery past its draft was published, so it carries a committed seed, as publishing leaves it."""
        if create and obj.admission_mode == "lottery" and obj.status != "draft":
            lottery_commit(campaign_id=obj.pk)
            obj.refresh_from_db()
