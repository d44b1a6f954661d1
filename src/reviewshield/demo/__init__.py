"""A believable demo dataset for `make run`, built through the real services."""
