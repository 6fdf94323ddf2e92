from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "cordon.apps.demo"
    label = "demo"
    verbose_name = _("Demo city")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import hooks  # noqa: F401  (registers the next day as a kind of job)
