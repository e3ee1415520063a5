"""Loyalty's tables, one module per part; each part's services are the only writers of its tables."""

from yunying.loyalty.models.points import (  # noqa: F401
    PointAccount,
    PointAllocation,
    PointLot,
    PointPosting,
    PostingKind,
    PostingSource,
)
from yunying.loyalty.models.incentives import *  # noqa: E402,F401,F403
