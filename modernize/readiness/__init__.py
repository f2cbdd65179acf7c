"""Readiness: rules with ids over the inventory (and the plan), scores and grades
rolled up service -> app -> host -> fleet."""
