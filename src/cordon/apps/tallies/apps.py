from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "cordon.apps.tallies"
    label = "tallies"
    verbose_name = _("Kept counts")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import hooks  # noqa: F401  (the refresh and the nightly reconciliation, run by workers)
