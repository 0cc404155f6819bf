"""Signers' rights in the browser: the privacy notice, withdrawing, and asking what is held."""
