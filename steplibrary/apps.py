from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_save, pre_delete


class StepLibraryConfig(AppConfig):
    name = "steplibrary"
    verbose_name = "Step library"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from flows.models import Tree
        from steplibrary import signals

        post_save.connect(signals.sync_after_tree_save, sender=Tree, dispatch_uid="library_sync")
        pre_delete.connect(
            signals.deactivate_before_tree_delete, sender=Tree, dispatch_uid="library_delete"
        )
        connection_created.connect(
            signals.lift_sqlite_variable_limit, dispatch_uid="library_sqlite_limit"
        )
