"""
The test server's Django code (see server.py): URLs, the OIDC claims, a request log, and two
resource views protected by DOT's own token checks.
"""
import base64
import json
import threading
from urllib.parse import unquote

from django.conf import settings
from django.contrib.auth.views import LoginView
from django.http import JsonResponse
from django.urls import include, path
from oauth2_provider.models import get_access_token_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.views.generic import ProtectedResourceView


class Validator(OAuth2Validator):
    """The user's profile as OIDC claims (DOT's documented way: get_additional_claims)."""

    def get_additional_claims(self, request):
        user = request.user
        return {
            "name": f"{user.first_name} {user.last_name}".strip(),
            "given_name": user.first_name,
            "family_name": user.last_name,
            "preferred_username": user.username,
            "email": user.email,
        }


_log_lock = threading.Lock()


def _client_id(request):
    """The client a token request authenticates as: HTTP Basic (URL-encoded parts) or the body."""
    auth = request.META.get("HTTP_AUTHORIZATION", "")
    if auth.startswith("Basic "):
        try:
            return unquote(base64.b64decode(auth[6:]).decode("utf-8").split(":", 1)[0])
        except ValueError:
            return None
    return request.POST.get("client_id")


class RequestLog:
    """One JSON line per request (method, path, status; grant type and client for /o/token/); never a token."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        entry = {"method": request.method, "path": request.path, "status": response.status_code}
        if request.method == "POST" and request.path == "/o/token/":
            entry["grant_type"] = request.POST.get("grant_type")
            entry["client_id"] = _client_id(request)
        with _log_lock, open(settings.LATCH_DOT_LOG, "a", encoding="utf-8") as log:
            log.write(json.dumps(entry) + "\n")
        return response


def _token(request):
    header = request.META.get("HTTP_AUTHORIZATION", "")
    return get_access_token_model().objects.select_related("application", "user").get(token=header[7:])


class WhoAmI(ProtectedResourceView):
    """An API behind DOT's token check: who the token was issued to, and for which scopes."""

    def get(self, request, *args, **kwargs):
        token = _token(request)
        return JsonResponse({
            "client_id": token.application.client_id,
            "scope": token.scope,
            "user": token.user.username if token.user else None,
        })


class Profile(ProtectedResourceView):
    """A plain OAuth 2.0 profile endpoint, as DOT deployments without OIDC write one: a numeric `id`, no `sub`."""

    def get(self, request, *args, **kwargs):
        user = _token(request).user
        if user is None:
            return JsonResponse({"error": "invalid_token"}, status=403)
        return JsonResponse({"id": user.id, "username": user.username, "email": user.email, "first_name": user.first_name})


urlpatterns = [
    path("accounts/login/", LoginView.as_view(template_name="login.html")),
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("api/whoami/", WhoAmI.as_view()),
    path("api/profile/", Profile.as_view()),
]
