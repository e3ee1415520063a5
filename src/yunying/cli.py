"""The `yunying` command: Django's management commands under the product's name.

yunying demo | worker | apikey create --role execution --name shop | serve | migrate | …
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    # Everything the product writes (the SQLite database and its WAL, outbox and mail files, secrets,
    # backups, rate-limit counters) holds personal data or keys: private to the service's user.
    # Inherited by the server's worker processes.
    os.umask(0o077)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yunying.settings")
    from django.core.management import execute_from_command_line

    args = sys.argv[1:]
    if args and "-" in args[0] and not args[0].startswith("-"):
        args[0] = args[0].replace("-", "_")  # `yunying repair-counters` runs repair_counters
    execute_from_command_line(["yunying", *args])


if __name__ == "__main__":
    main()
