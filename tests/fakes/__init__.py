"""Fakes of the platforms' HTTP APIs, served by the tests themselves on 127.0.0.1."""
