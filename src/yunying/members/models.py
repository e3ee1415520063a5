from django.db import models


class Gender(models.TextChoices):
    MALE = "male", "男"
    FEMALE = "female", "女"
    UNKNOWN = "unknown", "未知"


class Member(models.Model):
    """Minimal member identity. Phone, name and e-mail are stored encrypted (core.crypto) with
    keyed blind indexes for look-up; only members.services reads or writes them."""

    external_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    phone_encrypted = models.TextField(blank=True)
    phone_index = models.CharField(max_length=40, unique=True, null=True, blank=True)
    name_encrypted = models.TextField(blank=True)
    name_index = models.CharField(max_length=40, blank=True, db_index=True)
    email_encrypted = models.TextField(blank=True)
    email_index = models.CharField(max_length=40, blank=True, db_index=True)
    gender = models.CharField(max_length=8, choices=Gender.choices, default=Gender.UNKNOWN)
    birth_date = models.DateField(null=True, blank=True)
    region_code = models.CharField(max_length=6, blank=True)
    language = models.CharField(max_length=10, default="zh-hans")
    source_channel = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(phone_index__isnull=False) | models.Q(external_id__isnull=False),
                name="member_has_identity",
            )
        ]

    def __str__(self) -> str:
        return f"Member #{self.pk}"
