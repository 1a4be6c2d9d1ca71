"""Merkle Mountain Range, proofs, signed notes, checkpoints, keys and the open checks."""
