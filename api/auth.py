from django.contrib.auth import authenticate, login, logout
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from workflow import selectors

from .authentication import fresh_token
from .errors import error_responses
from .throttles import LoginThrottle


class MeOutput(serializers.Serializer):
    username = serializers.CharField()
    full_name = serializers.CharField()
    role = serializers.CharField(allow_null=True)
    role_label = serializers.CharField(allow_null=True)
    department = serializers.CharField(allow_null=True)


def _me(user):
    return selectors.me(user)


class LoginApi(APIView):
    """工作人员登录：返回 API 令牌（Authorization: Token …），同时建立会话。"""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginThrottle]

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=128, style={"input_type": "password"})

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()
        user = MeOutput()

    @extend_schema(
        operation_id="auth_login",
        request=InputSerializer,
        responses={200: OutputSerializer, **error_responses(400, 429)},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request, **data.validated_data)
        if user is None or not user.is_active:
            raise serializers.ValidationError({"password": ["用户名或密码不正确"]})
        login(request, user)
        token = fresh_token(user)
        return Response(self.OutputSerializer({"token": token.key, "user": _me(user)}).data)


class LogoutApi(APIView):
    @extend_schema(operation_id="auth_logout", request=None, responses={204: None, **error_responses(401, 403)})
    def post(self, request):
        Token.objects.filter(user=request.user).delete()
        logout(request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    @extend_schema(operation_id="auth_me", responses={200: MeOutput, **error_responses(401, 403)})
    def get(self, request):
        return Response(MeOutput(_me(request.user)).data)
