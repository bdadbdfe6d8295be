"""Fakes of the services the system talks to, speaking their real protocols."""
