"""The demo logins `make run` prints. Local demo only: never load demo data into production."""

DEMO_PASSWORD = "reviewshield-demo"
DEMO_TOKEN = "rs_demo_marketplace_token_local_only"

DEMO_LOGINS = [
    ("buyer", "demo.buyer", DEMO_PASSWORD),
    ("seller", "demo.seller", DEMO_PASSWORD),
    ("agent", "demo.agent", DEMO_PASSWORD),
    ("senior agent", "demo.senior", DEMO_PASSWORD),
    ("admin", "demo.admin", DEMO_PASSWORD),
    ("system (API)", "Bearer token", DEMO_TOKEN),
]
