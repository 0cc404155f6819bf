"""Threshold rules: which countries may sign, what each must reach, and when a goal is met."""
