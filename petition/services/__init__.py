"""Domain operations: plain functions over models and values, never touching the HTTP request."""
