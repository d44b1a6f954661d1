"""Limits against floods and guessing: how often one actor may do a costly or guessable thing.

Two kinds:

- Logins: django-axes locks a username *from one address* after `AXES_FAILURE_LIMIT` wrong passwords
  for `AXES_COOLOFF_TIME` (its database handler, so every web process sees the same failures);
  `login.lockout` answers with the login page, the reason in the person's language and 429.
- Actions (`REVIEWSHIELD_LIMITS`): filing complaints, evidence uploads, appeals, extortion reports,
  chat evidence numbers per person, and failed bearer tokens per address. `services.limit_spend`
  counts an attempt in a fixed window and refuses past the limit with `errors.RateLimited` (429 and
  `Retry-After`); `edges.limited` puts it in front of a web view or an API endpoint.

Every refusal is kept in `LimitHit` (one row per actor, action and window, with how often it was
refused), visible in the admin beside axes' own access records.
"""
