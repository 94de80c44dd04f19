from django.apps import AppConfig


class StepLibraryConfig(AppConfig):
    name = "steplibrary"
    verbose_name = "Step library"
    default_auto_field = "django.db.models.BigAutoField"
