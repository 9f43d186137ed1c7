"""The durable_rules backend: rule patterns compiled to its condition language, and the one
adapter that drives its C engine. Nothing outside this package imports durable_rules."""
