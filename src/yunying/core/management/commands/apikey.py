from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from yunying.core.apikeys import apikey_create, apikey_owner_set, apikey_revoke
from yunying.core.models import ApiKey
from yunying.core.permissions import Role, command_line_actor


class Command(BaseCommand):
    help = "Manage API keys: create (prints the token once), list, revoke, set-owner."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a key and print its token")
        create.add_argument("--role", required=True, choices=[r.value for r in Role])
        create.add_argument("--name", default="")
        create.add_argument(
            "--owner", default="",
            help="the console user name of the person holding the key (needed to request an export in clear)",
        )  # fmt: skip
        sub.add_parser("list", help="list keys (never their secrets)")
        revoke = sub.add_parser("revoke", help="revoke a key by its prefix")
        revoke.add_argument("prefix")
        owner = sub.add_parser("set-owner", help="name the console user who holds a key")
        owner.add_argument("prefix")
        owner.add_argument("owner")

    def handle(self, *args, action, **options):
        if action == "create":
            name = options["name"] or f"{options['role']} key"
            owner = self._owner(options["owner"])
            _, token = apikey_create(
                name=name, role=Role(options["role"]), actor=command_line_actor(), owner=owner
            )
            self.stdout.write(token)
        elif action == "list":
            for key in ApiKey.objects.order_by("id"):
                state = "revoked" if key.revoked_at else "active"
                self.stdout.write(f"{key.prefix}\t{key.role}\t{state}\t{key.owner or '-'}\t{key.name}")
        elif action == "set-owner":
            key = self._key(options["prefix"])
            apikey_owner_set(key=key, owner=self._owner(options["owner"]), actor=command_line_actor())
            self.stdout.write(f"{key.prefix} is held by {key.owner}")
        else:
            key = self._key(options["prefix"])
            apikey_revoke(key=key, actor=command_line_actor())
            self.stdout.write(f"revoked {key.prefix}")

    def _key(self, prefix: str) -> ApiKey:
        key = ApiKey.objects.filter(prefix=prefix).first()
        if key is None:
            raise CommandError(f"no key with prefix {prefix}")
        return key

    def _owner(self, owner: str) -> str:
        """An owner must be a console user: the two-person rule tells people apart by it."""
        owner = owner.strip()
        if owner and not get_user_model().objects.filter(username=owner).exists():
            raise CommandError(f"no console user named {owner!r}: --owner names the person holding the key")
        return owner
