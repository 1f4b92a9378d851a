"""modelserver layer."""
