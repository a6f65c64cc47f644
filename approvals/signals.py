"""Four-eyes survives renames: when a user's username or e-mail changes, the old names are kept (FormerIdentity)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models.signals import pre_save

from approvals.four_eyes import former_identities_record


def _user_renamed(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    if raw or instance.pk is None:
        return
    if update_fields is not None and not {sender.USERNAME_FIELD, "email"} & set(update_fields):
        return  # e.g. the login's last_login update
    old = sender.objects.filter(pk=instance.pk).values(sender.USERNAME_FIELD, "email").first()
    if old is None:
        return
    old_username, old_email = old[sender.USERNAME_FIELD] or "", old.get("email") or ""
    if old_username != instance.get_username() or old_email != (getattr(instance, "email", "") or ""):
        former_identities_record(user=instance, old_username=old_username, old_email=old_email)


def connect() -> None:
    pre_save.connect(_user_renamed, sender=get_user_model(), dispatch_uid="approvals-four-eyes-rename")
