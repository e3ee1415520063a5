"""Loyalty's tables, one module per part; each part's services are the only writers of its tables."""

from yunying.loyalty.models.incentives import *  # noqa: F403
from yunying.loyalty.models.points import (  # noqa: F401
    PointAccount,
    PointAllocation,
    PointLot,
    PointPosting,
    PostingKind,
    PostingSource,
)
