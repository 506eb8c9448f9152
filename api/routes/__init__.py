"""One router per resource: health, curves, plans, quotes."""
