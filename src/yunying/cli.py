"""The `yunying` command: Django's management commands under the product's name.

yunying demo | worker | apikey create --role execution --name shop | serve | migrate | …
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yunying.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["yunying", *sys.argv[1:]])


if __name__ == "__main__":
    main()
