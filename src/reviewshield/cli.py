"""The `reviewshield` console command: Django's management commands plus our own.

`reviewshield import orders FILE.csv`, `reviewshield policy deadlines …`, `reviewshield worker`,
`reviewshield serve`, `reviewshield demo` and every Django command (`migrate`, `createsuperuser`…).
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewshield.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["reviewshield", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
