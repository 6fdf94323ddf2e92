from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "cordon.apps.command"
    label = "command"
    verbose_name = _("Command analysis")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from cordon.core import homes
        from cordon.core.roles import Role

        from . import (
            hooks,  # noqa: F401  (the kept control figures and the day's figures, run by workers)
            views,
        )

        homes.register([Role.CITY_COMMANDER, Role.DISTRICT_COMMANDER], views.home)
