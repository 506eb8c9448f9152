"""The one-page web planner: index.html, its script and style sheet (served by api.routes.web)."""
