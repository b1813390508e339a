from rest_framework import serializers


class VersionedSerializer(serializers.ModelSerializer):
    """Base for versioned resources. Fields in ``Meta.create_only`` can be set
    when the object is created and are read-only afterwards."""

    version = serializers.IntegerField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            for name in getattr(self.Meta, "create_only", ()):
                fields[name].read_only = True
        return fields


class ScopedPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """A foreign key limited to objects the requesting user can see, so ids
    from other workspaces are simply "not found"."""

    def __init__(self, model, **kwargs):
        self.model = model
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.model.objects.visible_to(self.context["request"].user)
