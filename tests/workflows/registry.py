"""Test workflows registered on the test session's gateway and emulator.

Each entry is `NAME=module:function[,timeout=SECONDS][,retention=DAYS][,plain]`.
"""

TEST_FUNCTIONS: list[str] = []
