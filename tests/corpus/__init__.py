"""The reply corpus: what real chat models answer, and what the user must end up with."""
