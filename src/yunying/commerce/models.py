"""Order facts from the storefront (DESIGN: Yunying is not a shop). An order arrives once, keyed by
the storefront's id; what happens to it later (refunds, a cancellation) arrives as events appended
to OrderEvent, never by rewriting the order or its lines. The refunded amounts and the status kept on
Order and OrderLine are derived from the events, updated in the same transaction, and can be rebuilt
from them. Money is integer fen. Only commerce.services writes these tables."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from yunying.members.models import Member


class OrderStatus(models.TextChoices):
    PAID = "paid", _("Paid")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
    REFUNDED = "refunded", _("Refunded")
    CANCELLED = "cancelled", _("Cancelled")


class Order(models.Model):
    external_id = models.CharField(max_length=64, unique=True)  # the storefront's order id
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="orders")
    channel = models.CharField(max_length=20, blank=True)
    paid_at = models.DateTimeField()
    total_fen = models.BigIntegerField()  # what the member paid: the sum of the lines' paid_fen
    # References the storefront sends, kept as given: coupon codes/ids and the campaign it came from.
    # No foreign key to campaigns (commerce sits below them); a campaign id, when known.
    coupon_refs = models.JSONField(default=list, blank=True)
    campaign_id = models.BigIntegerField(null=True, blank=True)
    # The signed quote the storefront priced the order with (POST /quotes): promotions redeems what it
    # applied when the order is recorded. Opaque here; "" for orders priced without one.
    quote = models.TextField(
        blank=True, default="", db_default=""
    )  # db_default: the import's raw INSERT omits it
    # Derived from the events (commerce.services keeps them in step; a rebuild recomputes them).
    refunded_fen = models.BigIntegerField(default=0)
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.PAID)
    # A digest of the ingested payload: the same id sent again with other content is a conflict.
    fingerprint = models.CharField(max_length=64)
    source = models.CharField(max_length=10, default="api")  # api | import
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["member", "paid_at"]),
            models.Index(fields=["paid_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(total_fen__gte=0), name="order_total_not_negative"),
            models.CheckConstraint(
                condition=models.Q(refunded_fen__gte=0) & models.Q(refunded_fen__lte=models.F("total_fen")),
                name="order_refund_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"Order {self.external_id}"

    @property
    def net_fen(self) -> int:
        return self.total_fen - self.refunded_fen


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="lines")
    line_no = models.PositiveIntegerField()  # 1-based, in the order the storefront sent them
    sku = models.CharField(max_length=64)
    category = models.CharField(max_length=64, blank=True)
    unit_price_fen = models.BigIntegerField()
    quantity = models.PositiveIntegerField()
    paid_fen = models.BigIntegerField()  # after every discount, what the member paid for the line
    refunded_fen = models.BigIntegerField(default=0)  # derived from the events
    refunded_quantity = models.PositiveIntegerField(default=0)  # derived from the events

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "line_no"], name="order_line_unique_no"),
            models.CheckConstraint(
                condition=models.Q(unit_price_fen__gte=0)
                & models.Q(paid_fen__gte=0)
                & models.Q(quantity__gte=1),
                name="order_line_amounts_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(refunded_fen__gte=0) & models.Q(refunded_fen__lte=models.F("paid_fen")),
                name="order_line_refund_within_paid",
            ),
        ]


class OrderEventKind(models.TextChoices):
    REFUND = "refund", _("Refund")
    CANCEL = "cancel", _("Cancellation")


class OrderEvent(models.Model):
    """Append-only: something that happened to an order after it was paid. `external_id` is the
    storefront's id for the event (its refund number), unique per order: a replay posts nothing."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="events")
    external_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=10, choices=OrderEventKind.choices)
    line = models.ForeignKey(
        OrderLine, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    amount_fen = models.BigIntegerField(default=0)
    quantity = models.PositiveIntegerField(default=0)
    reason = models.CharField(max_length=200, blank=True)
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)
    fingerprint = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "external_id"], name="order_event_unique_external_id"),
            models.CheckConstraint(
                condition=models.Q(amount_fen__gte=0), name="order_event_amount_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["order", "id"])]


class ImportKind(models.TextChoices):
    MEMBERS = "members", _("Members")
    ORDERS = "orders", _("Orders")


class ImportMode(models.TextChoices):
    ALL_OR_NOTHING = "all", _("All or nothing")
    CLEAN_ONLY = "clean", _("Clean rows only")


class ImportState(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    CHECKING = "checking", _("Checking")
    CHECKED = "checked", _("Checked")  # ready to import: no errors, or clean rows to import
    INVALID = "invalid", _("Has errors")
    REFUSED = "refused", _("Refused")  # the file as a whole: encoding, header, size
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Failed")


class ImportJob(models.Model):
    """One uploaded file and what became of it. The file, its staging and its error report live
    under var/imports/<token>/ (private, 0600); the worker claims a job by its state and heartbeat,
    and a job whose heartbeat stopped (a killed worker) is claimed again and run from the top, which
    writes nothing twice (pipeline: idempotent by member ids and order id + fingerprint)."""

    token = models.CharField(max_length=32, unique=True)  # the directory name, unguessable
    kind = models.CharField(max_length=10, choices=ImportKind.choices)
    mode = models.CharField(max_length=10, choices=ImportMode.choices, default=ImportMode.ALL_OR_NOTHING)
    state = models.CharField(max_length=10, choices=ImportState.choices, default=ImportState.UPLOADED)
    filename = models.CharField(max_length=200)  # as uploaded, shown in the history
    size_bytes = models.BigIntegerField(default=0)
    file_format = models.CharField(max_length=10, blank=True)  # csv | xlsx
    encoding = models.CharField(max_length=20, blank=True)
    sheet = models.CharField(max_length=100, blank=True)
    other_sheets = models.JSONField(default=list, blank=True)
    language = models.CharField(max_length=10, default="zh-hans")  # of the report's messages
    run_requested = models.BooleanField(default=False)  # the operator asked to write, not only check
    rows_total = models.PositiveIntegerField(default=0)
    rows_valid = models.PositiveIntegerField(default=0)
    rows_error = models.PositiveIntegerField(default=0)
    errors_total = models.PositiveIntegerField(default=0)
    records_new = models.PositiveIntegerField(default=0)
    records_unchanged = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)  # progress of the current phase
    inserted = models.PositiveIntegerField(default=0)
    members_created = models.PositiveIntegerField(default=0)
    error_sample = models.JSONField(default=list, blank=True)  # the first rows of the report
    failure = models.JSONField(default=dict, blank=True)  # a refusal of the whole file: {code, ...}
    created_by = models.CharField(max_length=80)  # the operator's label
    created_by_id = models.BigIntegerField(null=True, blank=True)
    created_by_role = models.CharField(max_length=20, blank=True)  # the finish's audit row says it too
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["state", "heartbeat_at"]), models.Index(fields=["-created_at"])]

    def __str__(self) -> str:
        return f"Import {self.pk} {self.kind} {self.filename}"
