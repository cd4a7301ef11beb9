"""Automatic differentiation: rule table, forward and reverse synthesizers, tape decisions."""
