"""The planner web UI at ``/planner``: desktop pages for procurement planners and quality staff.

Pages are rendered on the server (Jinja2) and forms post, then redirect (POST-redirect-GET). A
domain error is shown on the form it came from, with what was typed, and a 4xx status.
"""
