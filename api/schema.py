"""OpenAPI generation tweaks."""

from drf_spectacular.openapi import AutoSchema as _AutoSchema


class AutoSchema(_AutoSchema):
    def _get_serializer_name(self, serializer, direction, bypass_extensions=False):
        # Views keep their Input/Output serializers nested (HackSoft style); name the components after
        # the view so CaseOpenApi.InputSerializer becomes CaseOpenApiInput, not a clashing "Input".
        cls = serializer if isinstance(serializer, type) else serializer.__class__
        if "." in cls.__qualname__ and not getattr(getattr(cls, "Meta", None), "ref_name", None):
            name = cls.__qualname__.replace(".", "").removesuffix("Serializer")
            return f"{name}Request" if direction == "request" and self._is_split(serializer) else name
        return super()._get_serializer_name(serializer, direction, bypass_extensions)

    def _is_split(self, serializer):
        from drf_spectacular.settings import spectacular_settings

        return spectacular_settings.COMPONENT_SPLIT_REQUEST
