"""`yunying operator`: add an operator with a role, change a role, list or disable operators.

yunying operator create --username li.na --role execution   (asks for the password twice)
yunying operator role li.na support
yunying operator list
yunying operator disable li.na
"""

import getpass

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from yunying.console.access import OPERATOR_ROLES, has_totp, role_of
from yunying.core.audit import audit_record
from yunying.core.permissions import Role, command_line_actor

ROLE_NAMES = [role.value for role in OPERATOR_ROLES]


class Command(BaseCommand):
    help = "Manage console operators: create (with a role), role, list, disable."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create an operator (asks for the password)")
        create.add_argument("--username", required=True)
        create.add_argument("--role", required=True, choices=ROLE_NAMES)
        create.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
        role = sub.add_parser("role", help="give an operator another role")
        role.add_argument("username")
        role.add_argument("role", choices=ROLE_NAMES)
        sub.add_parser("list", help="list operators, their roles and whether two-factor is on")
        disable = sub.add_parser("disable", help="disable an operator's sign-in")
        disable.add_argument("username")

    def handle(self, *args, action, **options):
        getattr(self, f"_{action}")(**options)

    def _password(self, user, from_stdin: bool) -> str:
        if from_stdin:
            import sys

            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("the passwords differ")
        try:
            password_validation.validate_password(password, user)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        return password

    def _set_role(self, user, role: Role) -> None:
        user.groups.remove(*Group.objects.filter(name__in=ROLE_NAMES))
        user.groups.add(Group.objects.get_or_create(name=role.value)[0])

    def _create(self, *, username, role, password_stdin, **options):
        user_model = get_user_model()
        if user_model.objects.filter(username=username).exists():
            raise CommandError(
                f"an operator named {username!r} exists; `yunying operator role` changes a role"
            )
        user = user_model(username=username, is_active=True)
        user.set_password(self._password(user, password_stdin))
        with transaction.atomic():
            user.save()
            self._set_role(user, Role(role))
            audit_record(actor=command_line_actor(), action="operator.created", object_type="user", object_id=user.pk,
                         after={"username": username, "role": role})  # fmt: skip
        self.stdout.write(f"operator {username} created with the role {role}")

    def _role(self, *, username, role, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no operator named {username!r}")
        before = role_of(user)
        with transaction.atomic():
            self._set_role(user, Role(role))
            audit_record(actor=command_line_actor(), action="operator.role_changed", object_type="user", object_id=user.pk,
                         before={"role": str(before or "")}, after={"role": role})  # fmt: skip
        self.stdout.write(f"{username}: {before or '-'} → {role}")

    def _list(self, **options):
        for user in get_user_model().objects.order_by("username").prefetch_related("groups"):
            role = role_of(user)
            if role is None and user.is_active:
                continue
            state = "active" if user.is_active else "disabled"
            two_factor = "two-factor on" if has_totp(user) else "two-factor off"
            self.stdout.write(f"{user.username}\t{role or '-'}\t{state}\t{two_factor}")

    def _disable(self, *, username, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no operator named {username!r}")
        with transaction.atomic():
            user.is_active = False
            user.save(update_fields=["is_active"])
            audit_record(
                actor=command_line_actor(), action="operator.disabled", object_type="user", object_id=user.pk
            )
        self.stdout.write(f"{username} can no longer sign in")
