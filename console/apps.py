from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = "Headwater console"

    # issue 10: the credentials-file system check (console/checks.py)
    def ready(self) -> None:
        from console import checks  # noqa: F401  (registers the check)
