"""PURE: the tamper-evidence core — Merkle log hashing and proofs, signed checkpoints, bundle checks.

No Django and no clock, so the bundle verifier can ship as readable, standalone code.
"""
