"""Loyalty's tables, one module per part; each part's services are the only writers of its tables."""

from yunying.loyalty.models.adjustments import AdjustmentState, PointAdjustment  # noqa: F401
from yunying.loyalty.models.brokerage import (  # noqa: F401
    BrokerageConfig,
    CommissionEntry,
    CommissionRule,
    EntryKind,
    Promoter,
    PromoterBinding,
    PromoterState,
    Statement,
    StatementState,
)
from yunying.loyalty.models.incentives import *  # noqa: F403
from yunying.loyalty.models.points import (  # noqa: F401
    PointAccount,
    PointAllocation,
    PointLot,
    PointPosting,
    PostingKind,
    PostingSource,
)
from yunying.loyalty.models.rules import ExpiryPolicy, PointsRules  # noqa: F401
from yunying.loyalty.models.tiers import (  # noqa: F401
    DowngradePolicy,
    GrowthPosting,
    MemberTier,
    TierBasis,
    TierChange,
    TierLevel,
    TierProgramme,
)
