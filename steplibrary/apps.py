from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete


class StepLibraryConfig(AppConfig):
    name = "steplibrary"
    verbose_name = "Step library"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from flows.models import Tag, Tree
        from steplibrary import signals
        from steplibrary.models import LibraryStep

        post_save.connect(signals.sync_after_tree_save, sender=Tree, dispatch_uid="library_sync")
        pre_delete.connect(
            signals.deactivate_before_tree_delete, sender=Tree, dispatch_uid="library_delete"
        )
        connection_created.connect(
            signals.lift_sqlite_variable_limit, dispatch_uid="library_sqlite_limit"
        )
        # Search vectors: the entry's own saves and tags, its flow's tags, tag renames.
        post_save.connect(
            signals.refresh_after_step_save, sender=LibraryStep, dispatch_uid="library_search"
        )
        m2m_changed.connect(
            signals.refresh_after_step_tags_change,
            sender=LibraryStep.tags.through,
            dispatch_uid="library_step_tags",
        )
        m2m_changed.connect(
            signals.refresh_after_flow_tags_change,
            sender=Tree.tags.through,
            dispatch_uid="library_flow_tags",
        )
        post_save.connect(signals.refresh_after_tag_rename, sender=Tag, dispatch_uid="library_tag")
        pre_delete.connect(signals.remember_tag_steps, sender=Tag, dispatch_uid="library_tag_del")
        post_delete.connect(
            signals.refresh_after_tag_delete, sender=Tag, dispatch_uid="library_tag_deleted"
        )
