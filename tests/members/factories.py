import factory
from faker import Faker

from yunying.members.models import Member
from yunying.members.services import Profile, member_resolve

fake = Faker("zh_CN")


def mobile(n: int) -> str:
    """A valid, unique mainland mobile number for member n."""
    return f"+86138{n:08d}"


class MemberFactory(factory.Factory):
    """Members are made through members.services (the only writer), so PII is encrypted as in production."""

    class Meta:
        model = Member

    phone = factory.Sequence(mobile)
    external_id = None
    name = factory.LazyFunction(fake.name)
    gender = "female"
    birth_date = factory.LazyFunction(lambda: fake.date_of_birth(minimum_age=20, maximum_age=50))
    region_code = "440300"

    @classmethod
    def _create(cls, model_class, *, phone, external_id, name, gender, birth_date, region_code):
        profile = Profile(name=name, gender=gender, birth_date=birth_date, region_code=region_code)
        return member_resolve(phone=phone, external_id=external_id, profile=profile)
