from django.core.management.base import BaseCommand, CommandError

from yunying.core.apikeys import apikey_create, apikey_revoke
from yunying.core.models import ApiKey
from yunying.core.permissions import Role, command_line_actor


class Command(BaseCommand):
    help = "Manage API keys: create (prints the token once), list, revoke."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a key and print its token")
        create.add_argument("--role", required=True, choices=[r.value for r in Role])
        create.add_argument("--name", default="")
        create.add_argument("--owner", default="", help="the console user name of the person holding the key")
        sub.add_parser("list", help="list keys (never their secrets)")
        revoke = sub.add_parser("revoke", help="revoke a key by its prefix")
        revoke.add_argument("prefix")

    def handle(self, *args, action, **options):
        if action == "create":
            name = options["name"] or f"{options['role']} key"
            _, token = apikey_create(
                name=name, role=Role(options["role"]), actor=command_line_actor(), owner=options["owner"]
            )
            self.stdout.write(token)
        elif action == "list":
            for key in ApiKey.objects.order_by("id"):
                state = "revoked" if key.revoked_at else "active"
                self.stdout.write(f"{key.prefix}\t{key.role}\t{state}\t{key.name}")
        else:
            key = ApiKey.objects.filter(prefix=options["prefix"]).first()
            if key is None:
                raise CommandError(f"no key with prefix {options['prefix']}")
            apikey_revoke(key=key, actor=command_line_actor())
            self.stdout.write(f"revoked {key.prefix}")
