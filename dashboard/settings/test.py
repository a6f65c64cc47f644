"""Settings for the test suite (pytest's DJANGO_SETTINGS_MODULE): the product's settings plus a fast
password hasher, since every test that logs a user in hashes a password."""

from dashboard.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
