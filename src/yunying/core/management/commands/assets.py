from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from yunying.core.assets import AssetError, assets_fetch, assets_missing


class Command(BaseCommand):
    help = "Fetch the pinned browser assets (npm lockfile, sha512-checked) into YUNYING_ASSETS_DIR."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="only report what is missing (exit 1 if any)"
        )

    def handle(self, *args, check, **options):
        target = settings.ASSETS_DIR
        if check:
            missing = assets_missing(target)
            if missing:
                raise CommandError(
                    f"missing browser assets in {target}: {', '.join(missing)}; run `yunying assets`"
                )
            self.stdout.write(f"browser assets complete in {target}")
            return
        try:
            fetched = assets_fetch(target)
        except (AssetError, OSError) as exc:
            raise CommandError(f"browser assets: {exc}") from exc
        for name in fetched:
            self.stdout.write(f"fetched and verified {name}")
