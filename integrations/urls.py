"""Pages of the local sandbox backends (a page that plays the identity app on the phone, the payment window):
each answers 404 unless its sandbox backend is the configured one."""

app_name = "integrations"

urlpatterns = []
