from rest_framework import serializers


class VersionedSerializer(serializers.ModelSerializer):
    """Base for versioned resources. Fields in ``Meta.create_only`` are set
    when the object is created and kept afterwards. An update may send them
    (a PUT of what a GET answered): they are validated like any field, so a
    value of the wrong type is a 400 as the schema says, and then ignored."""

    version = serializers.IntegerField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def get_fields(self):
        fields = super().get_fields()
        if self._updating():
            for name in getattr(self.Meta, "create_only", ()):
                fields[name].required = False
        return fields

    def _updating(self) -> bool:
        return self.instance is not None and not isinstance(self.instance, list | tuple)

    def to_internal_value(self, data):
        attrs = super().to_internal_value(data)
        if self._updating():
            for name in getattr(self.Meta, "create_only", ()):
                attrs.pop(name, None)
        return attrs


_UPDATE_SERIALIZERS: dict[type, type] = {}


def update_serializer(serializer_class: type) -> type:
    """The request body of a PUT: the serializer with its create-only fields
    optional (the schema's ``<Name>Update``), one class per serializer."""
    if serializer_class not in _UPDATE_SERIALIZERS:

        def get_fields(self):
            fields = serializer_class.get_fields(self)
            for name in serializer_class.Meta.create_only:
                fields[name].required = False
            return fields

        name = serializer_class.__name__.removesuffix("Serializer") + "UpdateSerializer"
        _UPDATE_SERIALIZERS[serializer_class] = type(
            name, (serializer_class,), {"get_fields": get_fields, "__module__": __name__}
        )
    return _UPDATE_SERIALIZERS[serializer_class]


class ScopedPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """A foreign key limited to objects the requesting user can see, so ids
    from other workspaces are simply "not found"."""

    def __init__(self, model, **kwargs):
        self.model = model
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.model.objects.visible_to(self.context["request"].user)
