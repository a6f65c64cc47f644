"""Durable functions written with the SDK, used only by the tests."""
