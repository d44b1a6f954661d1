"""Exit 0 when a PostgreSQL server answers at the URL given (creating the database if missing)."""

import sys

import psycopg


def main(url: str) -> int:
    base, _, dbname = url.rpartition("/")
    try:
        with psycopg.connect(f"{base}/postgres", connect_timeout=3, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{dbname}"')
    except psycopg.Error as exc:
        print(f"PostgreSQL not reachable: {exc}".strip(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
