"""The staff web app: FastAPI, server-rendered Jinja2 pages, a thin face over the services.

Access decisions live in ``empowered.access.policy``; page data in ``empowered.views``;
this package only turns requests into calls to them and their results into HTML.
"""
