"""`yunying demo`: load a realistic demo data set, then print an operator login and an API key.

Every row is made by the services (campaigns.services.*, members through signup_create), so the demo
obeys the invariants the product does: seats_taken equals the confirmed sign-ups, the event history
explains every status, personal data is encrypted, notices sit in the outbox.

The services refuse sign-ups outside an open window, so past campaigns (closed, finished) are made
the only honest way: published with the window still open, signed up, then closed early by the
operator. Their sign-up deadline therefore stays a little in the future, while a finished event's
dates lie in the past (finishing checks no dates).

Reproducible: a fixed seed drives every choice (instants, keys, ids and the lottery's seed aside: that
one is committed at random when the campaign is published). Safe to run again, as
`make run` does on every start: the demo loads only into an empty database (no campaign, no member),
never on top of a system in use. The operator password and the API key are made once and kept in a
private file under var/ (0600), then printed again on every run while they still work; `--renew`
replaces both (revoking the previous demo key).
"""

from __future__ import annotations

import json
import os
import random
import secrets
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from faker import Faker

from yunying.campaigns.eligibility import MemberFacts, eligibility_evaluate, eligibility_parse
from yunying.campaigns.models import Campaign, Signup, SignupStatus
from yunying.campaigns.selectors import signup_list
from yunying.campaigns.services.admission import (
    MemberIdentity,
    Source,
    signup_confirm,
    signup_create,
    signup_reject,
    signup_withdraw,
)
from yunying.campaigns.services.attendance import attendance_mark
from yunying.campaigns.services.lifecycle import (
    campaign_cancel,
    campaign_close,
    campaign_create,
    campaign_finish,
    campaign_publish,
)
from yunying.campaigns.services.lottery import lottery_draw
from yunying.commerce.services import order_cancel, order_ingest, order_refund
from yunying.commerce.validation import CancelInput, RefundInput, order_parse
from yunying.core.apikeys import apikey_authenticate, apikey_create, apikey_owner_set, apikey_revoke
from yunying.core.errors import DomainError
from yunying.core.models import ApiKey
from yunying.core.permissions import ROLE_PERMISSIONS, Actor, Perm, Role
from yunying.loyalty.checkin import checkin_rule_save
from yunying.loyalty.models import ExpiryPolicy, MissedDayPolicy, TaskKind
from yunying.loyalty.referrals import referral_rule_save
from yunying.loyalty.rules import RulesInput, points_rules_save
from yunying.loyalty.tasks import TaskSpec, task_list_save
from yunying.loyalty.tiers import LevelSpec, programme_save
from yunying.members import tags as member_tags
from yunying.members.consent import consent_record, policy_version
from yunying.members.models import Member
from yunying.members.regions import CITIES
from yunying.members.services import Profile, member_phone
from yunying.promotions.models import PromotionState
from yunying.promotions.quoting import QuoteLine, quote_cart
from yunying.promotions.services import budget_create, promotion_create, promotion_transition
from yunying.promotions.terms import promotion_validate
from yunying.risk.services import register_save

SEED = 20260618
MEMBER_COUNT = 360
DEMO = Actor(kind="system", id=None, label="demo")  # `created_by` of every demo campaign
OPERATOR_USERNAME = "operator"
TWO_FACTOR_ROLES = {r for r, perms in ROLE_PERMISSIONS.items() if Perm.PII_REVEAL in perms}
# The demo team: one operator per role (the role is the group of that name, console.access). The
# strategy operator is also the Django admin's superuser.
DEMO_OPERATORS = {
    OPERATOR_USERNAME: Role.STRATEGY,
    "execution": Role.EXECUTION,
    "support": Role.SUPPORT,
    "auditor": Role.AUDITOR,
}
API_KEY_NAME = "demo operator (strategy)"

CHANNEL_WEIGHTS = {"h5": 35, "app": 25, "mini_program": 30, "social": 10}
UTM_BY_CHANNEL = {
    "h5": [("wechat", "social"), ("douyin", "feed"), ("xiaohongshu", "kol"), ("baidu", "cpc"), ("sms", "sms")],
    "app": [("app", "push"), ("app", "banner"), ("", "")],
    "mini_program": [("wechat", "mini_program"), ("wechat", "moments")],
    "social": [("wechat", "social"), ("douyin", "short_video"), ("xiaohongshu", "note"), ("weibo", "post")],
}  # fmt: skip
USER_AGENTS = {
    "h5": [
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 MicroMessenger/8.0.49",
        "Mozilla/5.0 (Linux; Android 14; V2309A) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36 aweme",
        "Mozilla/5.0 (Linux; Android 13; 22081212C) AppleWebKit/537.36 Chrome/116.0 Mobile Safari/537.36 XHS",
    ],
    "app": ["YunyingShop/5.2.0 (iPhone15,3; iOS 17.5)", "YunyingShop/5.2.0 (HUAWEI ALN-AL00; HarmonyOS 4.2)"],
    "mini_program": [
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) MicroMessenger/8.0.53 miniProgram"
    ],
    "social": [
        "Mozilla/5.0 (Linux; Android 14; PJZ110) AppleWebKit/537.36 Chrome/121.0 Mobile Safari/537.36"
    ],
}
MOBILE_PREFIXES = ("133", "135", "136", "137", "138", "139", "150", "151", "152", "157", "158", "159",
                   "166", "177", "180", "181", "182", "183", "185", "186", "187", "188", "189", "199")  # fmt: skip
BIG_CITIES = {"110100": 4, "310100": 4, "440100": 4, "440300": 4, "330100": 2, "510100": 2, "420100": 2,
              "320100": 2, "320500": 2, "610100": 2, "430100": 2, "500100": 2}  # fmt: skip
STORIES = [
    "第一次在门店买的是一件白衬衫，穿了五年，面试、婚礼都是它陪我。",
    "大学毕业那年用第一份工资给妈妈买了围巾，她到现在每年冬天都戴。",
    "出差忘带外套，在机场店买了一件风衣，后来成了我最常穿的一件。",
    "和女朋友第一次约会穿的那双鞋，现在她成了我的妻子。",
    "孩子出生后买的第一套亲子装，照片一直挂在客厅。",
]
HABITS = ["每周跑步三次，每次五公里左右", "主要是游泳和瑜伽", "通勤骑行，周末爬山", "健身房力量训练为主", ""]


def _options(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"value": value, "label": label} for value, label in pairs]


SIZE = {
    "key": "size", "label": "尺码", "type": "single_choice", "required": True,
    "options": _options(("s", "S (160/84A)"), ("m", "M (165/88A)"), ("l", "L (170/92A)"),
                        ("xl", "XL (175/96A)"), ("xxl", "XXL (180/100A)")),
}  # fmt: skip
SHOE_SIZE = {
    "key": "shoe_size", "label": "鞋码", "type": "single_choice", "required": True,
    "options": _options(*[(str(s), f"{s} 码") for s in range(36, 46)]),
}  # fmt: skip
INTERESTS = {
    "key": "interests", "label": "感兴趣的品类(最多选 3 项)", "type": "multi_choice", "required": True,
    "min_choices": 1, "max_choices": 3,
    "options": _options(("beauty", "美妆护肤"), ("fashion", "服饰鞋包"), ("digital", "数码家电"),
                        ("food", "食品生鲜"), ("baby", "母婴亲子"), ("outdoor", "运动户外"), ("home", "家居生活")),
}  # fmt: skip
ADDRESS = {
    "key": "address", "label": "收货地址", "type": "address", "required": True,
    "help_text": "仅用于寄送本次活动的礼品或样品，活动结束后 30 天删除",
}  # fmt: skip
STRAP = {
    "key": "strap", "label": "表带尺寸", "type": "single_choice", "required": True,
    "options": _options(("small", "小号(腕围 130–180 mm)"), ("large", "大号(腕围 150–210 mm)")),
}  # fmt: skip
SESSION = {
    "key": "session", "label": "场次", "type": "single_choice", "required": True,
    "options": _options(("sat_pm", "周六 14:00"), ("sun_pm", "周日 14:00")),
}  # fmt: skip
CONSENT = {
    "key": "privacy_consent", "type": "consent", "required": True,
    "label": "我已阅读并同意《会员隐私政策》，同意运营方为本次活动处理我的个人信息",
}  # fmt: skip


@dataclass(frozen=True)
class Person:
    phone: str
    name: str
    gender: str
    birth_date: date
    region_code: str
    email: str | None


class DemoBuilder:
    """Builds the data set; every choice comes from one seeded generator, in a fixed order."""

    def __init__(self, *, seed: int = SEED, member_count: int = MEMBER_COUNT) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - reproducible demo data, no secret in it
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(seed)
        local_now = timezone.localtime()
        self.base = local_now.replace(minute=0, second=0, microsecond=0)
        self.today = local_now.date()
        self.people = self._people(member_count)
        self.uses: Counter[str] = Counter()
        self.utm_campaign: dict[int, str] = {}

    # -- people and answers ---------------------------------------------------------------------

    def _mobile(self) -> str:
        return "+86" + self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def _people(self, count: int) -> list[Person]:
        cities = list(CITIES)
        weights = [BIG_CITIES.get(code, 1) for code in cities]
        people: list[Person] = []
        phones: set[str] = set()
        while len(people) < count:
            phone = self._mobile()
            if phone in phones:
                continue
            phones.add(phone)
            roll = self.rng.random()
            gender = "female" if roll < 0.56 else "male" if roll < 0.97 else "unknown"
            name = {"female": self.fake.name_female, "male": self.fake.name_male}.get(
                gender, self.fake.name
            )()
            year = int(self.rng.triangular(1960, 2006.99, 1993))
            people.append(
                Person(
                    phone=phone,
                    name=name,
                    gender=gender,
                    birth_date=date(year, 1, 1) + timedelta(days=self.rng.randrange(365)),
                    region_code=self.rng.choices(cities, weights)[0],
                    email=self.fake.free_email() if self.rng.random() < 0.35 else None,
                )
            )
        return people

    def _street(self) -> str:
        rng = self.rng
        return (
            f"{self.fake.street_name()}{rng.randint(1, 899)}号"
            f"{rng.randint(1, 30)}栋{rng.randint(1, 3)}单元{rng.randint(1, 32)}{rng.randint(1, 4):02d}室"
        )

    def _answer(self, question: dict[str, Any], person: Person) -> Any:
        rng, kind = self.rng, question["type"]
        if kind == "single_choice":
            options = question["options"]
            if question["key"] in ("size", "shoe_size"):  # sizes cluster by gender
                mode = len(options) * (0.3 if person.gender == "female" else 0.65)
                return options[min(int(rng.triangular(0, len(options), mode)), len(options) - 1)]["value"]
            return rng.choice(options)["value"]
        if kind == "multi_choice":
            options = question["options"]
            low = max(question.get("min_choices", 0), 1)
            high = question.get("max_choices") or len(options)
            return [o["value"] for o in rng.sample(options, rng.randint(low, high))]
        if kind == "address":
            return {"region_code": person.region_code, "detail": self._street()}
        if kind == "phone":
            return self._mobile()
        if kind == "text":
            return rng.choice(STORIES if question.get("required") else HABITS)
        return True  # consent

    def _eligible(self, campaign: Campaign) -> list[Person]:
        rules = eligibility_parse(campaign.eligibility)
        return [
            p
            for p in self.people
            if not eligibility_evaluate(
                rules, MemberFacts(p.birth_date, p.gender, p.region_code, 0), today=self.today
            )
        ]

    def pick(self, campaign: Campaign, count: int) -> list[Person]:
        """Eligible people who have signed up least so far (so everyone takes part somewhere), in a
        random arrival order."""
        eligible = self._eligible(campaign)
        self.rng.shuffle(eligible)
        eligible.sort(key=lambda p: self.uses[p.phone])
        chosen = eligible[:count]
        self.rng.shuffle(chosen)
        self.uses.update(p.phone for p in chosen)
        return chosen

    # -- services -------------------------------------------------------------------------------

    def at(self, *, days: int = 0, hours: int = 0, hour: int | None = None) -> datetime:
        instant = self.base + timedelta(days=days, hours=hours)
        return instant.replace(hour=hour) if hour is not None else instant

    def create(self, *, utm: str, **values: Any) -> Campaign:
        values = {"channels": ["h5", "app", "mini_program", "social"], **values}
        campaign = campaign_create(actor=DEMO, values=values)
        self.utm_campaign[campaign.pk] = utm
        return campaign

    def publish(self, campaign: Campaign) -> Campaign:
        return campaign_publish(campaign_id=campaign.pk, actor=DEMO)

    def sign_up(self, campaign: Campaign, person: Person) -> Signup:
        rng = self.rng
        channels = [c for c in CHANNEL_WEIGHTS if c in campaign.channels]
        channel = rng.choices(channels, [CHANNEL_WEIGHTS[c] for c in channels])[0]
        utm_source, utm_medium = rng.choice(UTM_BY_CHANNEL[channel])
        answers = {
            q["key"]: self._answer(q, person)
            for q in campaign.form
            if q.get("required") or rng.random() < 0.7
        }
        profile = Profile(
            name=person.name,
            email=person.email,
            gender=person.gender,
            birth_date=person.birth_date,
            region_code=person.region_code,
        )
        return signup_create(
            campaign_id=campaign.pk,
            identity=MemberIdentity(phone=person.phone, profile=profile),
            answers=answers,
            source=Source(
                channel=channel,
                utm_source=utm_source,
                utm_medium=utm_medium,
                utm_campaign=self.utm_campaign[campaign.pk] if utm_source else "",
                client_ip=self.fake.ipv4_public(),
                device_id=f"{rng.getrandbits(64):016x}",
                user_agent=rng.choice(USER_AGENTS[channel]),
            ),
            actor=DEMO,
        )

    def sign_up_many(self, campaign: Campaign, count: int) -> list[Signup]:
        return [self.sign_up(campaign, person) for person in self.pick(campaign, count)]

    def withdraw(self, signup: Signup, reason: str) -> Signup:
        return signup_withdraw(campaign_id=signup.campaign_id, signup_id=signup.pk, actor=DEMO, reason=reason)

    # -- the campaigns --------------------------------------------------------------------------

    def build(self) -> None:
        self.points_rules()  # first: the members below earn their welcome, sign-up and order points
        self.incentives()  # first: the members' sign-ups and orders below complete newbie tasks
        self.tiers()  # first: the demo orders below move members up
        self.promotions()  # first: new members get their coupon, a third of the orders redeem the 满减
        self.member_day()
        self.watch_trial()
        self.sneaker_lottery()
        self.anniversary_meetup()
        self.coffee_class()
        self.night_run()
        self.brand_stories()
        self.gift_box_cancelled()
        self.gala_draft()
        self.member_facts()
        self.risk()

    def points_rules(self) -> None:
        """Points rules as a brand would start: 1 point per ¥1 per line, a 7-day return window, points
        good until the end of next year, 100 for joining, 10 per confirmed sign-up, 20 for attending,
        double in the birthday month. The demo's orders are imported history: here they earn too,
        so the member pages have points to show."""
        points_rules_save(
            values=RulesInput(
                points_per_unit=1, unit_fen=100, return_window_days=7, expiry_policy=ExpiryPolicy.YEAR_END,
                expiry_years=1, welcome_points=100, signup_points=10, attendance_points=20,
                birthday_permille=2000, import_earns=True, orders_paid_from=timezone.now() - timedelta(days=400),
            ),
            actor=DEMO,
            note="演示默认规则",
        )  # fmt: skip

    def tiers(self) -> None:
        """Four levels by growth value (1 per ¥1 over a year), reviewed once a year: 普通, 银卡, 金卡, 钻石."""
        programme_save(
            basis="growth", period_days=365, downgrade_policy="end_of_cycle", cycle_months=12, growth_per_yuan=1,
            level_specs=[
                LevelSpec("普通会员", 0),
                LevelSpec("银卡会员", 500, discount_permille=980, points_multiplier_permille=1200, birthday_points=100),
                LevelSpec("金卡会员", 2000, discount_permille=950, points_multiplier_permille=1500, birthday_points=300,
                          exclusive_campaigns=True),
                LevelSpec("钻石会员", 8000, discount_permille=900, points_multiplier_permille=2000, birthday_points=800,
                          priority_service=True, exclusive_campaigns=True, benefits_text="专属顾问 · 优先发货"),
            ],
            actor=DEMO,
        )  # fmt: skip

    def promotions(self) -> None:
        """Seeds 002/003: 满减 ladder with a budget, a member price by level, a limited-time price, N件M折
        on tea, a gift with purchase, a claimable new-member coupon (also given on registration), a
        platform free-shipping coupon, a coupon bought with points, and a budget for the app channel."""
        started = timezone.now() - timedelta(days=400)

        def make(kind: str, name: str, **fields: Any):
            spec, errors = promotion_validate({"name": name, "kind": kind, "starts_at": started, **fields})
            assert spec is not None, errors
            promotion = promotion_create(spec=spec, actor=DEMO)
            return promotion_transition(promotion_id=promotion.pk, to=PromotionState.ACTIVE, actor=DEMO)

        spend_off = make("spend_off", "双12满减", steps=[[20000, 3000], [50000, 10000]], priority=10)
        budget_create(scope="promotion", promotion_id=spend_off.pk, base_fen=5_000_000, actor=DEMO)
        make("member_price", "会员等级折扣", permille=0, min_tier_rank=1, exclude_categories=["礼盒"])
        make("special_price", "跑鞋限时价", price_fen=49900, skus=["SNEAKER-RUN-42"])
        make("items_percent", "茶叶2件9折", steps=[[2, 900]], categories=["茶叶"])
        make("gift", "满300送袜子", threshold_fen=30000, gift_sku="SOCKS-3P", gift_quantity=1)
        make("coupon_off", "新人券 满100减10", threshold_fen=10000, off_fen=1000, claimable=True, valid_days=30,
             issue_on=["registration"], issue_limit=100_000)  # fmt: skip
        make(
            "coupon_shipping",
            "平台免邮券",
            issuer="platform",
            claimable=True,
            valid_days=7,
            per_member_limit=3,
        )
        make("coupon_percent", "积分兑 9折券", permille=900, cap_fen=5000, valid_days=30, points_price=500,
             per_member_limit=5)  # fmt: skip
        budget_create(scope="channel", channel="app", base_fen=10_000_000, name="App 渠道", actor=DEMO)

    def incentives(self) -> None:
        """Seeds 001/002: a 7-day check-in table with a day-7 bonus, a newbie task list (complete 3
        to unlock the reward) and referral rewards (邀请1人得积分, paid after the return window)."""
        checkin_rule_save(
            rewards=[5, 5, 5, 5, 5, 5, 30], missed_policy=MissedDayPolicy.GRACE, grace_days=1, cycle_days=0,
            points_expire_days=365, enabled=True, actor=DEMO,
        )  # fmt: skip
        task_list_save(
            name="新人任务", description="完成3个任务解锁专属奖励", required=3, reward_points=200, actor=DEMO,
            tasks=[
                TaskSpec(TaskKind.PROFILE_COMPLETED, points=20),
                TaskSpec(TaskKind.FIRST_SIGNUP, points=20),
                TaskSpec(TaskKind.FIRST_ORDER, points=50),
                TaskSpec(TaskKind.INVITED_FRIEND, points=50),
                TaskSpec(TaskKind.CHECKINS, points=30, target=3),
            ],
        )  # fmt: skip
        referral_rule_save(
            inviter_points=500, invitee_points=100, monthly_cap=20, return_window_days=7, same_signal_limit=2,
            actor=DEMO,
        )  # fmt: skip

    def member_day(self) -> None:
        """Published, first come: full, a waiting list, and a withdrawal that promoted someone."""
        campaign = self.create(
            utm="member_day_early_bird",
            title="超级会员日 · 早鸟专享",
            theme="早鸟价锁定",
            type="promotion",
            description="会员日开抢前，会员可提前报名锁定早鸟资格：报名成功的会员在会员日当天 0 点至 2 点"
            "下单，享全场 8 折并叠加满 300 减 40。",
            rules_text="1. 每位会员限报名一次，名额 150 个，先到先得；名额满后可进入候补，"
            "有人取消时按候补顺序自动递补。\n"
            "2. 报名成功后将收到短信通知，早鸟资格在会员日 0:00–2:00 有效，过期作废。\n"
            "3. 早鸟折扣不与员工价同享，退款订单将同时收回对应优惠。\n"
            "4. 发现刷单、批量注册等违规行为的，运营方有权取消报名资格。",
            reward_description="全场 8 折 + 满 300 减 40 优惠券一张",
            signup_start_at=self.at(days=-5),
            signup_end_at=self.at(days=6, hour=22),
            event_start_at=self.at(days=7, hour=0),
            event_end_at=self.at(days=7, hour=2),
            capacity=150,
            waitlist_enabled=True,
            form=[INTERESTS, CONSENT],
        )
        self.publish(campaign)
        signups = self.sign_up_many(campaign, 168)
        confirmed = [s for s in signups if s.status == SignupStatus.CONFIRMED]
        waiting = [s for s in signups if s.status == SignupStatus.WAITLISTED]
        self.withdraw(confirmed[17], "临时出差，不参加了")  # the head of the waiting list moves up
        self.withdraw(waiting[-1], "不想继续候补了")
        signup_reject(
            campaign_id=campaign.pk,
            signup_id=confirmed[42].pk,
            actor=DEMO,
            reason="报名信息未通过审核，如有疑问请联系客服",  # what the member reads
            note="同一设备批量报名，疑似刷单",  # why, for colleagues only
        )

    def watch_trial(self) -> None:
        """Published, manual review: some pending, some confirmed, some rejected."""
        campaign = self.create(
            utm="pro_watch_trial",
            title="「轻跃 Pro」智能手表 新品体验官招募",
            theme="新品体验官",
            type="product_launch",
            description="「轻跃 Pro」智能手表即将上市，招募 30 名运动爱好者抢先体验心率、血氧与跑步课程功能。",
            rules_text="1. 招募 30 名体验官，须年满 18 周岁；报名后由运营人工审核，3 个工作日内短信通知结果。\n"
            "2. 入选者免费获得样机一台，须在收到后 14 天内于小红书或抖音发布不少于 300 字的真实体验笔记。\n"
            "3. 未按时发布体验笔记的，须按官网价 8 折购买样机或寄回。\n"
            "4. 名额满后通过审核的报名进入候补。",
            reward_description="「轻跃 Pro」智能手表样机一台(官网价 1499 元)",
            signup_start_at=self.at(days=-3),
            signup_end_at=self.at(days=4, hour=18),
            event_start_at=self.at(days=10, hour=10),
            event_end_at=self.at(days=24, hour=18),
            capacity=30,
            waitlist_enabled=True,
            review_mode="manual",
            eligibility={"min_age": 18},
            form=[
                STRAP,
                {"key": "habits", "label": "简单介绍你的运动习惯", "type": "text", "max_length": 200},
                ADDRESS,
                CONSENT,
            ],
        )
        self.publish(campaign)
        signups = self.sign_up_many(campaign, 80)
        for signup in signups[:25]:
            signup_confirm(campaign_id=campaign.pk, signup_id=signup.pk, actor=DEMO)
        reasons = ["运动习惯描述过于简单", "收货地址不在样机配送范围", "近 3 个月已参加过同类体验活动"]
        for i, signup in enumerate(signups[25:37]):
            signup_reject(campaign_id=campaign.pk, signup_id=signup.pk, actor=DEMO, reason=reasons[i % 3])

    def sneaker_lottery(self) -> None:
        """Published lottery: entrants registered, waiting for the draw."""
        campaign = self.create(
            utm="cloud_runner_draw",
            title="「云际」联名跑鞋 首发抽签",
            theme="限量首发",
            type="product_launch",
            description="与独立设计师联名的「云际」跑鞋限量 50 双，报名登记后统一公开抽签，中签者获得购买资格。",
            rules_text="1. 限量 50 双，报名即登记抽签，每位会员限一次，须年满 18 周岁。\n"
            "2. 报名截止后系统公开随机抽签(算法 sha256-rank-v1，种子于抽签后公布，任何人可复核)。\n"
            "3. 中签会员须在 72 小时内按官方价 1299 元购买，逾期视为放弃。\n"
            "4. 新疆、西藏地区暂不支持配送，无法报名。中签资格仅限本人使用，不得转让。",
            reward_description="官方价 1299 元购买资格",
            signup_start_at=self.at(days=-2),
            signup_end_at=self.at(days=2, hour=20),
            event_start_at=self.at(days=3, hour=10),
            event_end_at=self.at(days=6, hour=10),
            capacity=50,
            admission_mode="lottery",
            eligibility={"min_age": 18, "regions_deny": ["540000", "650000"]},
            channels=["h5", "app", "mini_program"],
            form=[SHOE_SIZE, ADDRESS, CONSENT],
        )
        self.publish(campaign)
        self.sign_up_many(campaign, 140)

    def anniversary_meetup(self) -> None:
        """Closed and drawn: winners confirmed, the rest waitlisted; a winner gave up their seat."""
        campaign = self.create(
            utm="brand10_shenzhen",
            title="品牌十周年粉丝见面会 · 深圳站",
            theme="十年同行",
            type="brand_event",
            description="品牌十周年，邀请 20 位广东地区的老朋友来深圳总部，与设计团队面对面，参观十年特展。",
            rules_text="1. 仅限广东省内会员、年满 18 周岁报名，名额 20 个，报名截止后抽签。\n"
            "2. 未中签的报名按抽签顺序进入候补，有人放弃时依次递补并短信通知。\n"
            "3. 见面会当天凭短信与身份证入场，不可转让、不可携伴。",
            reward_description="十周年纪念 T 恤 + 特展导览 + 下午茶",
            signup_start_at=self.at(days=-14),
            signup_end_at=self.at(hours=2),
            event_start_at=self.at(days=9, hour=14),
            event_end_at=self.at(days=9, hour=17),
            capacity=20,
            waitlist_enabled=True,
            admission_mode="lottery",
            eligibility={"min_age": 18, "regions_allow": ["440000"]},
            channels=["app", "mini_program", "social"],
            form=[SIZE, CONSENT],
        )
        self.publish(campaign)
        entrants = self.sign_up_many(campaign, 40)
        self.withdraw(entrants[3], "那天要加班")
        campaign_close(campaign_id=campaign.pk, actor=DEMO, reason="报名截止，进入抽签")
        lottery_draw(campaign_id=campaign.pk, actor=DEMO)  # the seed committed at publication
        winner = signup_list(campaign_id=campaign.pk, status=SignupStatus.CONFIRMED).first()
        if winner is not None:
            self.withdraw(winner, "中签了但家里临时有事，把名额让给别人")

    def coffee_class(self) -> None:
        """Finished: a past offline class in the Yangtze delta, one withdrawal."""
        campaign = self.create(
            utm="latte_art_class",
            title="周末咖啡拉花体验课 · 上海静安",
            theme="门店会员活动",
            type="offline_event",
            description="静安旗舰店咖啡师带你从打奶泡到拉出第一颗心，课后可带走自己拉花的一杯与一包挂耳咖啡。",
            rules_text="1. 江浙沪会员、年满 18 周岁可报名，名额 24 人，先到先得。\n"
            "2. 请提前 10 分钟到店签到，迟到 30 分钟视为放弃。\n"
            "3. 如不能参加请在开课 24 小时前取消报名，以便名额释放给其他会员。",
            reward_description="挂耳咖啡一盒 + 饮品券一张",
            signup_start_at=self.at(days=-25),
            signup_end_at=self.at(hours=2),
            # sign-up ends before the class starts (a campaign must be able to work); the demo then
            # closes and finishes it at once, standing in for the hours between
            event_start_at=self.at(hours=3),
            event_end_at=self.at(hours=5),
            capacity=24,
            eligibility={"min_age": 18, "regions_allow": ["310000", "320000", "330000"]},
            channels=["app", "mini_program"],
            notify_channels=["sms", "push"],
            form=[
                SESSION,
                CONSENT,
            ],
        )
        self.publish(campaign)
        signups = self.sign_up_many(campaign, 22)
        self.withdraw(signups[5], "孩子生病，来不了")
        campaign_close(campaign_id=campaign.pk, actor=DEMO, reason="课程已开始，报名截止")
        # most came: their codes scanned at the door (the report's participation rate)
        confirmed = signup_list(campaign_id=campaign.pk, status=SignupStatus.CONFIRMED).order_by("id")
        for signup in list(confirmed)[:-3]:
            attendance_mark(checkin_code=signup.checkin_code, campaign_id=campaign.pk, actor=DEMO)
        campaign_finish(campaign_id=campaign.pk, actor=DEMO)

    def night_run(self) -> None:
        """Published offline event limited by region and age, with a phone question (masked)."""
        campaign = self.create(
            utm="pearl_river_night_run",
            title="珠江夜跑 5 公里 · 广州站",
            theme="城市夜跑",
            type="offline_event",
            description="沿珠江新城滨江路夜跑 5 公里，终点有补给与拉伸指导，完赛即得限定奖牌。",
            rules_text="1. 仅限广东省内会员，年龄 18–55 周岁，名额 200 人，先到先得。\n"
            "2. 报名须填写紧急联系人电话；参赛前请确认身体状况适合跑步。\n"
            "3. 遇恶劣天气活动将顺延，报名会员会收到短信通知。",
            reward_description="完赛奖牌 + 速干 T 恤",
            signup_start_at=self.at(days=-7),
            signup_end_at=self.at(days=8, hour=18),
            event_start_at=self.at(days=12, hour=19),
            event_end_at=self.at(days=12, hour=21),
            capacity=200,
            eligibility={"min_age": 18, "max_age": 55, "regions_allow": ["440000"]},
            form=[
                SIZE,
                {"key": "emergency_phone", "label": "紧急联系人电话", "type": "phone", "required": True},
                CONSENT,
            ],
        )
        self.publish(campaign)
        self.sign_up_many(campaign, 30)

    def brand_stories(self) -> None:
        """Published brand event with free-text answers (masked in lists and exports)."""
        campaign = self.create(
            utm="my_first_piece",
            title="「我的第一件」品牌故事征集",
            theme="十周年故事",
            type="brand_event",
            description="讲讲你买下的第一件我们的商品，和它背后的故事。入选故事将在十周年特展中展出。",
            rules_text="1. 每位会员限投稿一次，故事须为本人真实经历，500 字以内。\n"
            "2. 投稿即授权品牌在十周年特展及官方账号中展示(可匿名)。\n"
            "3. 评选结果在活动结束后 7 个工作日内公布。",
            reward_description="入选作者获 200 元无门槛券，并在十周年特展中展出",
            signup_start_at=self.at(days=-10),
            signup_end_at=self.at(days=20, hour=23),
            event_start_at=self.at(days=21, hour=10),
            event_end_at=self.at(days=35, hour=18),
            capacity=500,
            channels=["h5", "mini_program", "social"],
            form=[
                {
                    "key": "story",
                    "label": "我与品牌的故事",
                    "type": "text",
                    "required": True,
                    "max_length": 500,
                },
                INTERESTS,
                CONSENT,
            ],
        )
        self.publish(campaign)
        self.sign_up_many(campaign, 110)

    def gift_box_cancelled(self) -> None:
        """Cancelled after sign-ups: every member with a live sign-up is told."""
        campaign = self.create(
            utm="limited_gift_box",
            title="节日限定礼盒 预约登记",
            theme="限定礼盒",
            type="promotion",
            description="节日限定礼盒(香氛蜡烛 + 丝巾 + 贺卡)会员预约，预约成功者可按 7 折购买。",
            rules_text="1. 限量 100 份，先到先得，每位会员限预约一份。\n"
            "2. 预约成功后 48 小时内完成支付，逾期名额释放。\n"
            "3. 礼盒按收货地址统一发货，不支持自提。",
            reward_description="限定礼盒 7 折购买资格",
            signup_start_at=self.at(days=-6),
            signup_end_at=self.at(days=10, hour=22),
            event_start_at=self.at(days=12, hour=10),
            event_end_at=self.at(days=15, hour=22),
            capacity=100,
            form=[ADDRESS, CONSENT],
        )
        self.publish(campaign)
        self.sign_up_many(campaign, 35)
        campaign_cancel(
            campaign_id=campaign.pk,
            actor=DEMO,
            reason="礼盒供应商延期交付，无法按时发货，活动取消；已报名会员将收到短信通知",
        )

    def gala_draft(self) -> None:
        """A draft still being planned."""
        self.create(
            utm="annual_gala",
            title="年度会员盛典 · 预热报名",
            theme="年度盛典",
            type="promotion",
            description="年度会员盛典预热：报名会员可提前领取盛典专属券包，并参与开场直播抽奖。",
            rules_text="1. 所有会员均可报名，名额 1000 个。\n2. 券包在盛典当天 0 点发放至会员账户。",
            reward_description="盛典专属券包(满 199 减 30 ×2、满 499 减 80 ×1)",
            signup_start_at=self.at(days=20, hour=10),
            signup_end_at=self.at(days=30, hour=23),
            event_start_at=self.at(days=31, hour=0),
            event_end_at=self.at(days=33, hour=23),
            capacity=1000,
            waitlist_enabled=True,
            form=[INTERESTS, CONSENT],
        )

    # -- member facts: tags and orders, so the member 360 page shows something ------------------

    PRODUCTS = (
        ("TEA-LJ-250", "茶叶", 12800),
        ("CUP-CERAMIC", "茶具", 6900),
        ("COFFEE-BEAN-1KG", "咖啡", 15800),
        ("SNEAKER-RUN-42", "鞋服", 59900),
        ("GIFT-BOX-MOON", "礼盒", 29800),
        ("SOCKS-3P", "鞋服", 3900),
    )
    TAGS = (("VIP", "年消费满 2000 元"), ("咖啡爱好者", "买过咖啡或报过咖啡课"), ("客诉跟进", "客服跟进中"))

    def risk(self) -> None:
        """An SMS farm rushes the smart-watch tester call from one cloud /24 on emulators: risk control blocks,
        challenges or holds each attempt, so the review queue and the decisions have something to show;
        and the operations team's risk register holds its first three risks."""
        campaign = (
            Campaign.objects.filter(title__startswith="「轻跃 Pro」").first()
            or Campaign.objects.filter(status="published").first()
        )
        for n in range(14):
            person = self._people(1)[0]
            try:
                signup_create(
                    campaign_id=campaign.pk,
                    identity=MemberIdentity(
                        phone=f"{'139' if n < 3 else '170'}{self.rng.randrange(10**8):08d}",
                        profile=Profile(
                            name=person.name, birth_date=date(1996, 3, 8), region_code=person.region_code
                        ),
                    ),
                    answers={q["key"]: self._answer(q, person) for q in campaign.form if q.get("required")},
                    # The first three look less like a farm (own device, a person's pace): held for review.
                    source=Source(
                        channel="h5",
                        client_ip=f"47.92.18.{10 + n}",
                        device_id=f"dev-{n:04d}-demo" if n < 3 else f"emu-{n % 3:04d}-farm",
                        user_agent="okhttp/4.9.3"
                        if n < 3 or n % 2
                        else "Mozilla/5.0 (Linux; Android 9; SM-G960F)",
                        form_fill_ms=9000 if n < 3 else 400 + 150 * n,
                    ),
                    actor=DEMO,
                )
            except DomainError:
                continue  # refused by risk control (or the campaign's own rules): that is the point
        for title, probability, impact, plan in (
            (
                "热门活动被接码平台用虚拟号批量报名",
                4,
                4,
                "风控规则：虚拟号与机房 IP 计分、短信二次验证；新品发布时段安排专人处理复核队列。",
            ),
            (
                "刷单套取积分与会员等级",
                3,
                4,
                "订单接入时的团伙与小额首单规则；冻结可疑邀请奖励；复核后冲回积分。",
            ),
            (
                "真实抢购高峰被误判为攻击",
                2,
                3,
                "规则不单独对高峰流量计分；新规则版本上线前先看回测中的正常用户误伤率。",
            ),
        ):
            register_save(item_id=None, values={"title": title, "probability": probability, "impact": impact, "owner": "运营风控组", "response_plan": plan, "description": ""}, actor=DEMO)  # fmt: skip

    def member_facts(self) -> None:
        """Manual tags (through members.tags) and order facts for the members who signed up: a few
        orders each over the last year, some refunded in part or cancelled."""
        for name, description in self.TAGS:
            member_tags.tag_create(name=name, description=description, actor=DEMO)
        members = list(Member.objects.filter(signups__isnull=False).distinct().order_by("pk"))
        for n, member in enumerate(members):
            for k in range(self.rng.choice((0, 1, 1, 2, 3, 5))):
                self._order(member, f"DEMO-{member.pk:05d}-{k + 1}", refund=self.rng.random() < 0.15,
                            cancel=self.rng.random() < 0.05)  # fmt: skip
            if n % 3 != 2:  # as the member pages record it when a member accepts the notice
                consent_record(
                    member=member, version=policy_version(), marketing=self.rng.random() < 0.6,
                    sensitive=False, client_ip=None,
                )  # fmt: skip
            if n % 7 == 0:
                member_tags.member_tag_add(member_id=member.pk, tag_name="VIP", actor=DEMO)
            if n % 5 == 1:
                member_tags.member_tag_add(member_id=member.pk, tag_name="咖啡爱好者", actor=DEMO)
            if n % 23 == 2:
                member_tags.member_tag_add(member_id=member.pk, tag_name="客诉跟进", actor=DEMO)

    def _order(self, member: Member, external_id: str, *, refund: bool, cancel: bool) -> None:
        """One paid order through order ingest, as the storefront would send it; some refunded in
        part (a line's one item) or cancelled, as events."""
        picks = self.rng.sample(self.PRODUCTS, self.rng.randint(1, 3))
        lines = [(sku, category, price, self.rng.randint(1, 2)) for sku, category, price in picks]
        paid_at = timezone.now() - timedelta(days=self.rng.randint(1, 360), hours=self.rng.randint(0, 23))
        channel = self.rng.choice(("app", "mini_program", "h5"))
        token = ""
        if self.rng.random() < 0.35:  # priced with a quote: the order redeems its promotions
            priced = quote_cart(
                member_id=member.pk,
                lines=[QuoteLine(sku, category, price, qty) for sku, category, price, qty in lines],
                channel=channel,
            )
            token = priced.token
            paid = [line.paid_fen for line in priced.quote.lines]
        else:
            paid = [price * qty for _, _, price, qty in lines]
        order = order_parse(
            {
                "quote": token,
                "external_id": external_id,
                "member": {"phone": member_phone(member)}
                if member.phone_index
                else {"external_id": member.external_id},
                "channel": channel,
                "paid_at": paid_at,
                "lines": [
                    {
                        "sku": sku,
                        "category": category,
                        "unit_price_fen": price,
                        "quantity": qty,
                        "paid_fen": paid_fen,
                    }
                    for (sku, category, price, qty), paid_fen in zip(lines, paid, strict=True)
                ],
            }
        )
        order_ingest(order=order, actor=DEMO, source="import")
        if cancel:
            order_cancel(
                external_id=external_id,
                cancel=CancelInput(
                    external_id=f"{external_id}-C", reason="", occurred_at=paid_at + timedelta(hours=2)
                ),
                actor=DEMO,
            )
        elif refund:
            order_refund(
                external_id=external_id,
                refund=RefundInput(
                    external_id=f"{external_id}-R", line_no=1, amount_fen=None, quantity=1, reason="七天无理由",
                    occurred_at=paid_at + timedelta(days=3),
                ),
                actor=DEMO,
            )  # fmt: skip


def demo_data_present() -> bool:
    return Campaign.objects.filter(created_by=DEMO.label).exists()


def database_empty() -> bool:
    return not Campaign.objects.exists() and not Member.objects.exists()


CREDENTIALS_FILE = "demo-credentials.json"


def _credentials_path():
    return settings.VAR_DIR / CREDENTIALS_FILE


def credentials_read() -> dict[str, str]:
    try:
        data = json.loads(_credentials_path().read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def credentials_write(data: dict[str, str]) -> None:
    """Write the file private from its first byte (0600), then move it into place."""
    path = _credentials_path()
    temporary = path.with_suffix(".tmp")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        json.dump(data, file)
    os.replace(temporary, path)


class Command(BaseCommand):
    help = (
        "Load demo campaigns, members and sign-ups into an empty database, and print the operator "
        "login and API key (made once, kept under var/)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-data", action="store_true", help="only print the operator login and API key"
        )
        parser.add_argument(
            "--renew", action="store_true", help="replace the operator password and the demo API key"
        )

    def handle(self, *args, no_data: bool, renew: bool, **options):
        if not no_data:
            self._load_data()
        kept = {} if renew else credentials_read()
        kept_logins = kept.get("logins") if isinstance(kept.get("logins"), dict) else {}
        logins = {
            username: self._operator_login(username, role, kept_logins.get(username), renew=renew)
            for username, role in DEMO_OPERATORS.items()
        }
        token = self._api_key(kept.get("api_key"), renew=renew)
        credentials_write({"logins": {u: p or "" for u, p in logins.items()}, "api_key": token})
        host = os.environ.get("YUNYING_HOST", "127.0.0.1")
        port = os.environ.get("YUNYING_PORT", "8000")
        root = f"http://{host}:{port}"
        lines = [
            f"\nConsole:      {root}/console/",
            f"Member pages: {root}/m/   (made for phones: open it at 375 px, e.g. in the browser's device mode)",
            f"API docs:     {root}/api/v1/docs",
            "Operator logins (user / password / role):",
        ]
        for username, role in DEMO_OPERATORS.items():
            password = logins[username] or f"(changed since it was made: `yunying changepassword {username}`)"
            note = (
                "  — sets up two-factor sign-in (TOTP) at first sign-in" if role in TWO_FACTOR_ROLES else ""
            )
            lines.append(f"  {username} / {password} / {role.value}{note}")
        lines += [
            f"API key (strategy): {token}",
            f"(kept in {_credentials_path()}, readable by you only; `yunying demo --renew` replaces them)\n",
        ]
        self.stdout.write("\n".join(lines))

    def _load_data(self) -> None:
        started = time.monotonic()
        # One transaction: a failure leaves no half data set behind, and the check below sees a
        # concurrent run's committed data (SQLite writers queue at BEGIN IMMEDIATE).
        with transaction.atomic():
            if demo_data_present():
                self.stdout.write("Demo data already loaded (campaigns created by 'demo'): left as is.")
                return
            if not database_empty():
                self.stdout.write("The database already holds campaigns or members: demo data not loaded.")
                return
            DemoBuilder().build()
        campaigns = Campaign.objects.filter(created_by=DEMO.label)
        signups = Signup.objects.filter(campaign__in=campaigns)
        members = signups.values("member_id").distinct().count()
        self.stdout.write(
            f"Demo data loaded in {time.monotonic() - started:.1f} s: {campaigns.count()} campaigns, "
            f"{members} members, {signups.count()} sign-ups."
        )

    def _operator_login(self, username: str, role: Role, kept: str | None, *, renew: bool) -> str | None:
        """An operator's password: the kept one while it still works, a new one for a new operator
        or on --renew, and None when someone changed it since (it is theirs: left alone)."""
        user_model = get_user_model()
        user = user_model.objects.filter(username=username).first()
        if user is not None and not renew:
            return kept if kept and user.check_password(kept) else None
        password = secrets.token_urlsafe(12)
        user = user or user_model(username=username)
        user.is_active = True
        user.is_staff = user.is_superuser = role == Role.STRATEGY
        user.set_password(password)
        user.save()
        user.groups.add(Group.objects.get_or_create(name=role.value)[0])
        return password

    def _api_key(self, kept: str | None, *, renew: bool) -> str:
        """The kept strategy key while it still works; otherwise a new one (on --renew the previous
        demo keys are revoked, so only the printed one works)."""
        if kept and apikey_authenticate(kept) is not None:
            key = ApiKey.objects.get(prefix=kept.split("_")[1])
            if not key.owner:  # kept from before keys had owners
                apikey_owner_set(key=key, owner=OPERATOR_USERNAME, actor=DEMO)
            return kept
        with transaction.atomic():
            if renew:
                for key in ApiKey.objects.filter(name=API_KEY_NAME, revoked_at__isnull=True):
                    apikey_revoke(key=key, actor=DEMO)
            # held by the strategy operator: an unowned key may not request an export in clear
            _, token = apikey_create(
                name=API_KEY_NAME, role=Role.STRATEGY, actor=DEMO, owner=OPERATOR_USERNAME
            )
        return token
