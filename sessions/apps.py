from django.apps import AppConfig


class FlowSessionsConfig(AppConfig):
    # "sessions" is django.contrib.sessions' label; ours must differ before any migration exists.
    name = "sessions"
    label = "flow_sessions"
    verbose_name = "Flow sessions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from flows.models import Tree
        from sessions import batch_live

        # A flow's visibility decides who may watch its batches: polls re-read it after a save.
        for signal in (post_save, post_delete):
            signal.connect(batch_live.tree_changed, sender=Tree, dispatch_uid="batch-live-tree")
