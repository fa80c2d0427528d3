from monitoring.views import healthz


class HealthCheckMiddleware:
    """Serve /healthz ahead of every other middleware (see settings.MIDDLEWARE)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == "/healthz":
            return healthz(request)
        return self.get_response(request)
