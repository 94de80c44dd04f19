from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete


class FlowsConfig(AppConfig):
    name = "flows"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from flows import signals
        from flows.models import Category, Tag, Tree

        post_save.connect(signals.refresh_after_tree_save, sender=Tree, dispatch_uid="flow_search")
        m2m_changed.connect(
            signals.refresh_after_tags_change, sender=Tree.tags.through, dispatch_uid="flow_tags"
        )
        for model in (Category, Tag):
            post_save.connect(
                signals.refresh_after_rename, sender=model, dispatch_uid=f"flow_{model.__name__}"
            )
        pre_delete.connect(signals.remember_tag_trees, sender=Tag, dispatch_uid="flow_tag_del")
        post_delete.connect(signals.refresh_after_tag_delete, sender=Tag, dispatch_uid="flow_tag")
