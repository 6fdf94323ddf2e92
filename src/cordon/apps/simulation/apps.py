from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "cordon.apps.simulation"
    label = "simulation"
    verbose_name = _("Simulator runs")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import hooks  # noqa: F401  (the simulator run as a kind of background job)
