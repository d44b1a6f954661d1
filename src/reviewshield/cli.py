"""The `reviewshield` console command: Django's management commands plus our own.

`reviewshield import orders FILE.csv`, `reviewshield policy deadlines …`, `reviewshield worker`,
`reviewshield serve`, `reviewshield demo`, `reviewshield verify BUNDLE.zip` (offline) and every Django command (`migrate`, `createsuperuser`…).
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["verify"]:
        # Offline bundle check: no settings, no database, no Django at all.
        from reviewshield.proofs.bundle import main as verify_main

        sys.exit(verify_main(args[1:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewshield.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["reviewshield", *args])


if __name__ == "__main__":
    main()
