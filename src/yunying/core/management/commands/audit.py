from django.core.management.base import BaseCommand, CommandError

from yunying.core.chain import CHAINS, chain_model, chain_verify


class Command(BaseCommand):
    help = (
        "Audit trail tools. verify: walk the hash chains of the operator audit trail and the "
        "personal-data access log, name the first broken row, print each head as <count>:<hash>; "
        "exit status 1 on a break."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="verify the audit and access hash chains")
        verify.add_argument(
            "--expect-head",
            action="append",
            default=[],
            metavar="CHAIN=COUNT:HASH",
            help="a head recorded earlier (audit=… or access=…): tail rows deleted since are detected",
        )
        verify.add_argument("--batch", type=int, default=2000)

    def handle(self, *args, action, **options):
        expected: dict[str, str] = {}
        for item in options["expect_head"]:
            name, sep, head = item.partition("=")
            if not sep or name not in CHAINS:
                raise CommandError(f"--expect-head takes {'|'.join(CHAINS)}=<count>:<hash>, not {item!r}")
            expected[name] = head
        broken = False
        for name, chain in CHAINS.items():
            try:
                verdict = chain_verify(
                    chain, chain_model(chain), expect_head=expected.get(name), batch=options["batch"]
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            if verdict.ok:
                self.stdout.write(
                    f"{name}: ok, verified through row {verdict.count}, head {verdict.head_text}"
                )
                if name not in expected:
                    # rows deleted from the end (or every row) leave a shorter chain that verifies:
                    # only a head recorded earlier, elsewhere, tells
                    self.stderr.write(
                        f"{name}: WARNING no --expect-head given: rows deleted from the end would not "
                        "be noticed. Compare with a head recorded earlier (the worker logs them hourly: "
                        "'audit chain heads' lines)."
                    )
                continue
            broken = True
            where = f"row id {verdict.broken_id}" if verdict.broken_id is not None else "the tail"
            self.stdout.write(
                f"{name}: BROKEN at {where} ({verdict.problem}); verified through row {verdict.count}, "
                f"head {verdict.head_text}"
            )
        if broken:
            raise SystemExit(1)
