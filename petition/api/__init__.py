"""The JSON API under /api/v1: public petition figures (and, later, partner submissions)."""
